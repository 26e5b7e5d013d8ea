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
//
// The four-line format of AKT's problem-level sets (assist2009_pid, assist2017_pid) adds the skills:
//
//   891,78276               ← how many answers, the learner's id
//   7410,7410,10076,…       ← the problem of each
//   37,54,54,…              ← its skill (a problem of two skills comes twice in a row, once each)
//   0,0,1,…                 ← 1 correct, 0 wrong
//
// A problem is one question of one subcategory (the first skill it is seen with), and the repeats of
// a multi-skill problem are one attempt (--keep-repeats: one attempt each, as the raw export has them).
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
  const learners: LearnerAnswers[] = [];
  for (const [f, file] of files.entries()) {
    const lines = await nonEmptyLines(file);
    for (let k = 0; k + 2 < lines.length; k += 3) {
      const items = values(lines[k + 1]!);
      const skills = items.map((item) => (skillMap ? skillMap.get(item) : item));
      learners.push({ id: `${name}-${f}-${k / 3}`, items, skills, outcomes: values(lines[k + 2]!) });
    }
  }
  return layOut(name, learners, layout);
}

/** The four-line format (count and learner id, problems, skills, outcomes); learner ids are `<name>-<id>`. */
export async function readFourLineFiles(
  name: string,
  files: readonly string[],
  { keepRepeats = false }: { keepRepeats?: boolean } = {},
  layout: LayoutOptions = issueLayout,
): Promise<PublicAnswer[]> {
  const learners: LearnerAnswers[] = [];
  for (const file of files) {
    const lines = await nonEmptyLines(file);
    for (let k = 0; k + 3 < lines.length; k += 4) {
      const id = values(lines[k]!)[1] ?? `${learners.length}`;
      const items = values(lines[k + 1]!);
      const skills = values(lines[k + 2]!);
      const outcomes = values(lines[k + 3]!);
      // The repeats of a multi-skill problem (the same problem again at once) are one attempt.
      const keep = items.map((item, t) => keepRepeats || t === 0 || item !== items[t - 1]);
      learners.push({
        id: `${name}-${id}`,
        items: items.filter((_, t) => keep[t]),
        skills: skills.filter((_, t) => keep[t]),
        outcomes: outcomes.filter((_, t) => keep[t]),
      });
    }
  }
  return layOut(name, learners, layout);
}

interface LearnerAnswers {
  id: string;
  items: string[];
  /** The skill of each answer; undefined: not mapped, left out. */
  skills: (string | undefined)[];
  outcomes: string[];
}

const nonEmptyLines = async (file: string) =>
  (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
const values = (line: string) =>
  line
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');

/**
 * Each learner's answers in daily sessions of `perSession`, `spacingSeconds` apart, the learner's
 * first day one of the 7 from `start` (by their place in the files). A question keeps the first
 * subcategory it is seen with.
 */
function layOut(name: string, learners: readonly LearnerAnswers[], layout: LayoutOptions): PublicAnswer[] {
  const subcategoryOf = new Map<string, string>();
  const answers: PublicAnswer[] = [];
  for (const [k, learner] of learners.entries()) {
    const firstDay = layout.start + (k % 7) * day;
    let t = 0;
    for (let i = 0; i < Math.min(learner.items.length, learner.outcomes.length); i++) {
      const skill = learner.skills[i];
      if (skill === undefined) continue;
      const question = `${name}-q${learner.items[i]}`;
      if (!subcategoryOf.has(question)) subcategoryOf.set(question, `${name}-s${skill}`);
      const session = Math.floor(t / layout.perSession);
      answers.push({
        learner: learner.id,
        subcategory: subcategoryOf.get(question)!,
        question,
        correct: learner.outcomes[i] === '1',
        at: firstDay + session * day + (t % layout.perSession) * layout.spacingSeconds * 1000,
      });
      t++;
    }
  }
  return answers.sort((a, b) => a.at - b.at);
}
