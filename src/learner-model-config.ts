// The learner model's hyperparameters as the server reads them at start: the JSON file that
// `npm run evaluate -- --fit <file>` writes (docs/learner-model.md). Its path is LEARNER_MODEL_PARAMS,
// or $DATA_DIR/learner-model.json; no file there means the defaults.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { dataDirFrom } from './db/client.ts';
import {
  calibrationIncreases,
  calibrationKnots,
  defaultLearnerModelParameters,
  type LearnerModelParameters,
} from './domain/learner-model.ts';
import { ConfigError } from './errors.ts';

const finite = z.number().finite();
const positive = finite.positive();
const nonNegative = finite.min(0);

/** A parameters file: every field optional (missing ones take the defaults), unknown ones refused. */
export const learnerModelParametersSchema = z
  .object({
    abilityK: nonNegative,
    abilityKDecay: nonNegative,
    skillK: nonNegative,
    skillKDecay: nonNegative,
    successWeight: nonNegative,
    failureWeight: finite,
    repeatWeight: nonNegative,
    repeatHalfLifeHours: positive,
    shortRepeatWeight: nonNegative,
    shortRepeatHalfLifeHours: positive,
    forgettingRate: nonNegative,
    forgettingScaleHours: positive,
    itemSuccessWeight: finite,
    itemFailureWeight: finite,
    recentWeight: nonNegative,
    recentRate: nonNegative.max(1),
    learnerRecentWeight: nonNegative,
    learnerRecentRate: nonNegative.max(1),
    recentWeightK: nonNegative,
    questionUncertainty: nonNegative,
    bandOffset: z.object({ EASY: finite, MEDIUM: finite, HARD: finite }).strict(),
    questionPriorInformation: positive,
    subcategoryPriorAttempts: nonNegative,
    practicePriorInformation: positive,
    calibrationSlope: positive,
    calibrationIntercept: finite,
    calibrationLowSlope: finite,
    calibrationBends: z.array(finite).length(calibrationKnots.length),
  })
  .strict()
  .partial();

/** What --fit writes: the parameters and where they came from. */
export interface LearnerModelParametersFile {
  parameters: LearnerModelParameters;
  fittedAt?: string;
  fittedOn?: Record<string, number>;
}

/** Validates a parsed parameters file ({ parameters: … }, or the parameters alone); defaults fill the gaps. */
export function parseLearnerModelParameters(
  json: unknown,
  source = 'learner model parameters',
): LearnerModelParameters {
  const body = json !== null && typeof json === 'object' && 'parameters' in json ? json.parameters : json;
  const parsed = learnerModelParametersSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const params = { ...defaultLearnerModelParameters, ...parsed.data } as LearnerModelParameters;
  if (!calibrationIncreases(params))
    throw new ConfigError(
      `${source}: every piece of the calibration must rise (calibrationSlope plus the bends below)`,
    );
  return params;
}

/** The parameters file's path: LEARNER_MODEL_PARAMS, or learner-model.json in DATA_DIR. */
export function learnerModelParametersPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.LEARNER_MODEL_PARAMS?.trim();
  return configured ? path.resolve(configured) : path.join(dataDirFrom(env), 'learner-model.json');
}

/**
 * Reads and validates the parameters file at `file`. A missing file gives the defaults, unless
 * `required` (an operator who named a file meant it); a malformed one is a ConfigError.
 */
export async function loadLearnerModelParameters(
  file: string = learnerModelParametersPath(),
  { required = false }: { required?: boolean } = {},
): Promise<LearnerModelParameters> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !required) return { ...defaultLearnerModelParameters };
    throw new ConfigError(`cannot read the learner model parameters ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseLearnerModelParameters(json, file);
}

export async function writeLearnerModelParameters(file: string, content: LearnerModelParametersFile): Promise<void> {
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
}
