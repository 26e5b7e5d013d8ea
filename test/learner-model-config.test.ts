// Reading the learner model's parameters file (what `npm run evaluate -- --fit` writes).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultLearnerModelParameters } from '../src/domain/learner-model.ts';
import {
  learnerModelParametersPath,
  loadLearnerModelParameters,
  writeLearnerModelParameters,
} from '../src/learner-model-config.ts';

describe('learner model parameters file', () => {
  test('the path is LEARNER_MODEL_PARAMS, else learner-model.json in DATA_DIR', () => {
    expect(learnerModelParametersPath({ LEARNER_MODEL_PARAMS: '/etc/ll/model.json' })).toBe('/etc/ll/model.json');
    expect(learnerModelParametersPath({ DATA_DIR: '/var/ll' })).toBe('/var/ll/learner-model.json');
  });

  test('written and read back; missing fields take the defaults; no file gives the defaults', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'learner-model-'));
    const file = path.join(dir, 'learner-model.json');
    expect(await loadLearnerModelParameters(file)).toEqual(defaultLearnerModelParameters);
    await expect(loadLearnerModelParameters(file, { required: true })).rejects.toThrow(/cannot read/);
    const fitted = { ...defaultLearnerModelParameters, skillK: 1.25, calibrationIntercept: 0.1 };
    await writeLearnerModelParameters(file, { parameters: fitted, fittedAt: '2025-03-01T00:00:00Z' });
    expect(await loadLearnerModelParameters(file)).toEqual(fitted);
    await writeFile(file, JSON.stringify({ forgettingRate: 0.3 }));
    expect(await loadLearnerModelParameters(file)).toEqual({ ...defaultLearnerModelParameters, forgettingRate: 0.3 });
  });

  test('a malformed file is refused with the field named', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'learner-model-'));
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ parameters: { forgettingScaleHours: -1 } }));
    await expect(loadLearnerModelParameters(file)).rejects.toThrow(/forgettingScaleHours/);
    await writeFile(file, JSON.stringify({ parameters: { skilK: 1 } }));
    await expect(loadLearnerModelParameters(file)).rejects.toThrow(/skilK/);
    await writeFile(file, '{ not json');
    await expect(loadLearnerModelParameters(file)).rejects.toThrow(/not JSON/);
  });
});
