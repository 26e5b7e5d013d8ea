// Public knowledge-tracing data sets as Learnloop attempts (docs/evaluation.md, "Public data sets").
// Reads the three-line-per-learner text format that DKVMN, DKT and most knowledge-tracing
// repositories ship (ASSISTments 2009/2015, STATICS, …):
//
//   15                      ← how many answers the learner gave
//   1,1,1,1,7,7,9,10,…      ← the item (or skill) of each, in order
//   0,1,1,1,1,1,0,0,…       ← 1 correct, 0 wrong
//
// and lays each learner's answers out the way issue 11's check did: one session a day of up to 20
// attempts, 30 s apart, subcategory = the skill, question = the item (the skill itself when the
// file names skills only). With a map of items to skills (`qid<TAB>skillid…`, a header line first)
// the item is the question and its skill the subcategory.
import { readFile } from 'node:fs/promises';

export interface PublicAnswer {
  learner: string;
  subcategory: string;
  question: string;
  correct: boolean;
  /** Epoch milliseconds. */
  at: number;
}

export interface LayoutOptions {
  /** Attempts per daily session. */
  perSession: number;
  /** Seconds between attempts of a session. */
  spacingSeconds: number;
  /** The first session's start (epoch ms); each learner starts on one of the 7 days from it. */
  start: number;
}

export const issueLayout: LayoutOptions = {
  perSession: 20,
  spacingSeconds: 30,
  start: Date.parse('2025-01-06T09:00:00Z'),
};

const day = 86_400_000;

/** Reads an item → skill map: lines `item<TAB>skill…` after a header line. */
export async function readSkillMap(file: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).slice(1);
  for (const line of lines) {
    const [item, skill] = line.split('\t');
    if (item && skill) map.set(item.trim(), skill.trim());
  }
  return map;
}

/**
 * The answers of every learner of the three-line files, laid out in daily sessions. Learner ids are
 * `<name>-<file index>-<learner index>`; a file's learners are disjoint from another's.
 */
export async function readThreeLineFiles(
  name: string,
  files: readonly string[],
  skillMap: Map<string, string> | null,
  layout: LayoutOptions = issueLayout,
): Promise<PublicAnswer[]> {
  const answers: PublicAnswer[] = [];
  for (const [f, file] of files.entries()) {
    const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
    for (let k = 0; k + 2 < lines.length; k += 3) {
      const items = lines[k + 1]!.split(',').filter((v) => v.trim() !== '');
      const outcomes = lines[k + 2]!.split(',').filter((v) => v.trim() !== '');
      const learner = `${name}-${f}-${k / 3}`;
      const firstDay = layout.start + ((k / 3) % 7) * day;
      for (let t = 0; t < Math.min(items.length, outcomes.length); t++) {
        const item = items[t]!.trim();
        const skill = skillMap ? skillMap.get(item) : item;
        if (skill === undefined) continue;
        const session = Math.floor(t / layout.perSession);
        answers.push({
          learner,
          subcategory: `${name}-s${skill}`,
          question: `${name}-q${item}`,
          correct: outcomes[t]!.trim() === '1',
          at: firstDay + session * day + (t % layout.perSession) * layout.spacingSeconds * 1000,
        });
      }
    }
  }
  return answers.sort((a, b) => a.at - b.at);
}
