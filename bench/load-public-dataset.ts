// `tsx bench/load-public-dataset.ts --name statics [--format three-line|four-line] [--skill-map F]
//   [--train-fraction 0.8] [--params FILE] [--json] FILE…` (or --demo-seeds N [--demo-days 60]: the demo
// simulation once per seed instead of files). --database-url URL: import the attempts into that (empty)
// database instead, for `npm run evaluate`.
// converts a public knowledge-tracing data set (bench/public-dataset.ts) into Learnloop attempts and
// runs the evaluation of `npm run evaluate` on them in memory: the same fit, replays and scores
// (src/services/model-evaluation.ts), held-out learners only. The data files stay outside the repo
// (docs/evaluation.md says where they came from).
import { parseArgs } from 'node:util';
import { databaseConfigFrom, openDatabase } from '../src/db/client.ts';
import { simulateDemo } from '../src/demo/simulation.ts';
import { defaultLearnerModelParameters } from '../src/domain/learner-model.ts';
import { masteryDefaults } from '../src/domain/mastery.ts';
import { formatReport } from '../src/evaluate-cli.ts';
import { cronSlots } from '../src/jobs/slots.ts';
import { loadLearnerModelParameters } from '../src/learner-model-config.ts';
import { AttemptLogBuilder, evaluateLog } from '../src/services/model-evaluation.ts';
import { readFourLineFiles, readSkillMap, readThreeLineFiles } from './public-dataset.ts';
import { importPublicAnswers } from './public-dataset-import.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string', default: 'public' },
    'skill-map': { type: 'string' },
    format: { type: 'string', default: 'three-line' },
    'keep-repeats': { type: 'boolean', default: false },
    'train-fraction': { type: 'string', default: '0.8' },
    alpha: { type: 'string', default: '0.15,0.6' },
    params: { type: 'string' },
    'demo-seeds': { type: 'string' },
    'demo-days': { type: 'string', default: '60' },
    'database-url': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (positionals.length === 0 && !values['demo-seeds']) {
  process.stderr.write('usage: tsx bench/load-public-dataset.ts --name N [--skill-map F] FILE…\n');
  process.exit(2);
}

const builder = new AttemptLogBuilder(new Set(['SESSION']), -Infinity);
if (values['demo-seeds']) {
  // The demo simulation (src/demo/simulation.ts), once per seed: each seed's learners and questions are its own.
  for (let seed = 1; seed <= Number(values['demo-seeds']); seed++) {
    const demo = simulateDemo({ seed, now: new Date('2025-06-01T00:00:00Z'), days: Number(values['demo-days']) });
    const questions = new Map(demo.questions.map((q) => [q.externalId, q]));
    const attempts = [...demo.attempts].sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime());
    for (const a of attempts) {
      const q = questions.get(a.questionExternalId)!;
      builder.push([
        `${seed}-${a.userEmail}`,
        q.subcategory,
        `${seed}-${q.externalId}`,
        q.difficultyBand,
        a.correct,
        a.hintUsed,
        a.context,
        a.recordedAt.getTime(),
        a.answeredAt.getTime(),
        null,
        null,
      ]);
    }
  }
} else {
  const skillMap = values['skill-map'] ? await readSkillMap(values['skill-map']) : null;
  const answers =
    values.format === 'four-line'
      ? await readFourLineFiles(values.name, positionals, { keepRepeats: values['keep-repeats'] })
      : await readThreeLineFiles(values.name, positionals, skillMap);
  if (values['database-url']) {
    // Into a database instead, for `npm run evaluate` (migrated first, as the server does).
    const url = values['database-url'];
    const db = await openDatabase(databaseConfigFrom({ DATABASE_URL: url }));
    await db.close();
    await importPublicAnswers(url, values.name, answers);
    process.stderr.write(
      `${answers.length.toLocaleString('en')} attempts imported; now DATABASE_URL=… npm run evaluate\n`,
    );
    process.exit(0);
  }
  for (const a of answers)
    builder.push([a.learner, a.subcategory, a.question, 'MEDIUM', a.correct, false, 'SESSION', a.at, a.at, null, null]);
}
const started = performance.now();
const report = evaluateLog(builder.build(), builder.learnerIds(), {
  alphas: values.alpha.split(',').map(Number),
  halfLivesHours: [masteryDefaults.halfLifeHours],
  mastery: masteryDefaults,
  masteryContexts: ['SESSION'],
  nightlySlots: (after, until) => cronSlots('0 2 * * *', 'UTC', after, until, Number.MAX_SAFE_INTEGER),
  timezone: 'UTC',
  learnerModel: values.params
    ? await loadLearnerModelParameters(values.params, { required: true })
    : defaultLearnerModelParameters,
  trainFraction: Number(values['train-fraction']),
  onProgress: (p) => {
    if (p.phase !== 'read') process.stderr.write(`  ${p.phase}: ${p.step}\n`);
  },
});
process.stderr.write(`evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
