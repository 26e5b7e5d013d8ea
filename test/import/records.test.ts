// The pure mapping of the existing system's rows and of xAPI statements.
import { describe, expect, test } from 'vitest';
import {
  attemptRecord,
  masteryHistoryRecord,
  parseTimestamp,
  questionRecord,
  RowError,
  sessionRecord,
  userRecord,
} from '../../src/import/records.ts';
import {
  attemptStatement,
  durationSeconds,
  type ExportedAttempt,
  isoDuration,
  xapiRecord,
} from '../../src/import/xapi.ts';

describe('timestamps', () => {
  test('without a zone: UTC, or the zone given', () => {
    expect(parseTimestamp('2025-08-11 14:03:22.123456', 'created_at', 'UTC').toISOString()).toBe(
      '2025-08-11T14:03:22.123Z',
    );
    expect(parseTimestamp('2025-08-11 14:03', 'created_at', 'UTC').toISOString()).toBe('2025-08-11T14:03:00.000Z');
    expect(parseTimestamp('2025-08-11 14:03:22', 'created_at', 'Europe/Berlin').toISOString()).toBe(
      '2025-08-11T12:03:22.000Z',
    );
    // Winter time in Berlin, half-hour zone in Kolkata.
    expect(parseTimestamp('2025-01-11T14:03:22', 'created_at', 'Europe/Berlin').toISOString()).toBe(
      '2025-01-11T13:03:22.000Z',
    );
    expect(parseTimestamp('2025-01-11 14:03:22', 'created_at', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-11T08:33:22.000Z',
    );
  });

  test('with a zone: that instant, whatever the import zone', () => {
    for (const written of [
      '2025-08-11T14:03:22Z',
      '2025-08-11 16:03:22+02',
      '2025-08-11 16:03:22+0200',
      '2025-08-11T16:03:22+02:00',
    ])
      expect(parseTimestamp(written, 'created_at', 'Asia/Kolkata').toISOString()).toBe('2025-08-11T14:03:22.000Z');
  });

  test('not a timestamp', () => {
    for (const bad of ['yesterday', '2025-02-30 10:00:00', '2025-08-11 25:00:00', '2025-08-11'])
      expect(() => parseTimestamp(bad, 'created_at', 'UTC')).toThrow(RowError);
  });
});

const attempt = {
  id: 'a1',
  user_id: 'u1',
  question_id: 'q1',
  attempt_no: '2',
  context: 'Session',
  options: '["a","b"]',
  user_answer: ' b ',
  correct: 't',
  time_sec: '12',
  hint_used: '',
  created_at: '2025-08-11 14:03:22',
};

describe('rows of the existing system', () => {
  test('an attempt in the seed style', () => {
    expect(attemptRecord(attempt, 'UTC')).toEqual({
      sourceId: 'a1',
      userSourceId: 'u1',
      questionSourceId: 'q1',
      attemptNo: 2,
      context: 'SESSION',
      options: '["a","b"]',
      userAnswer: ' b ',
      correct: true,
      timeSec: 12,
      hintUsed: false,
      createdAt: new Date('2025-08-11T14:03:22Z'),
    });
  });

  test.each([
    [{ context: 'homework' }, 'context "homework" is not one of session, practice, daily'],
    [{ correct: 'maybe' }, 'correct "maybe" is not a boolean (true/false)'],
    [{ time_sec: '-1' }, 'time_sec "-1" is not a number in 0..86400'],
    [{ attempt_no: '1.5' }, 'attempt_no "1.5" is not a whole number'],
    [{ user_id: '' }, 'user_id is empty'],
    [{ options: '[oops' }, 'options is not JSON'],
  ])('a bad attempt says what is wrong: %o', (change, reason) => {
    expect(() => attemptRecord({ ...attempt, ...change }, 'UTC')).toThrow(reason);
  });

  test('users, questions, sessions and mastery history', () => {
    expect(userRecord({ id: 'u1', name: 'Ann', email: 'Ann@Example.com' })).toEqual({
      sourceId: 'u1',
      name: 'Ann',
      email: 'ann@example.com',
      timezone: null,
      role: 'LEARNER',
    });
    expect(() => userRecord({ id: 'u1', name: 'Ann', email: 'ann@x.com', timezone: 'Mars/Olympus' })).toThrow(
      'not an IANA time zone',
    );
    expect(
      questionRecord({ id: 'q1', category: 'Q', subcategory: 'Algebra', difficulty_band: 'Hard', answer: '2' }),
    ).toMatchObject({ externalId: 'q1', difficultyBand: 'HARD', options: null });
    expect(
      sessionRecord(
        { id: 's1', user_id: 'u1', started_at: '2025-08-11 10:00:00', ended_at: '', units: '["Algebra"]' },
        'UTC',
      ),
    ).toMatchObject({ endedAt: null, units: ['Algebra'], durationSec: null });
    expect(() =>
      sessionRecord(
        { id: 's1', user_id: 'u1', started_at: '2025-08-11 10:00:00', ended_at: '2025-08-11 09:00:00' },
        'UTC',
      ),
    ).toThrow('ended_at is before started_at');
    expect(
      masteryHistoryRecord({
        id: 'h',
        user_id: 'u1',
        subcategory: 'Algebra',
        mastery_score: '0.42',
        recorded_date: '2025-08-11',
      }),
    ).toMatchObject({ score: 0.42, date: '2025-08-11' });
    expect(() =>
      masteryHistoryRecord({
        id: 'h',
        user_id: 'u1',
        subcategory: 'A',
        mastery_score: '1.2',
        recorded_date: '2025-08-11',
      }),
    ).toThrow('mastery_score');
  });
});

describe('xAPI', () => {
  test('durations', () => {
    expect(durationSeconds('PT12.5S')).toBe(12.5);
    expect(durationSeconds('PT1M3S')).toBe(63);
    expect(durationSeconds('P1DT2H')).toBe(93_600);
    expect(() => durationSeconds('12s')).toThrow(RowError);
    expect(() => durationSeconds('PT')).toThrow(RowError);
    expect(durationSeconds(isoDuration(12.25))).toBe(12.25);
  });

  const exported: ExportedAttempt = {
    id: '7f0c2a52-8f0e-4d4b-9d8e-2f7c1f2b8a10',
    userName: 'Ann',
    email: 'ann@example.com',
    timezone: 'Europe/Berlin',
    externalId: 'ALG 1/2',
    category: 'Quantitative',
    subcategory: 'Algebra',
    difficultyBand: 'EASY',
    answer: 'x = 2',
    context: 'SESSION',
    userAnswer: 'x=3',
    correct: false,
    timeSec: 14.5,
    hintUsed: true,
    answeredAt: new Date('2025-08-11T14:03:22.120Z'),
    recordedAt: new Date('2025-08-11T14:03:23Z'),
    sessionId: 'c0a8012e-0000-4000-8000-000000000001',
    sessionStartedAt: new Date('2025-08-11T14:00:00Z'),
    sessionEndedAt: new Date('2025-08-11T14:30:00Z'),
  };

  test('an exported attempt reads back as the same attempt', () => {
    const record = xapiRecord({ json: JSON.stringify(attemptStatement(exported)) });
    expect(record).toEqual({
      kind: 'attempt',
      statementId: exported.id,
      actor: { email: 'ann@example.com', account: null, accountName: null, name: 'Ann', timezone: 'Europe/Berlin' },
      question: {
        externalId: 'ALG 1/2',
        definition: { category: 'Quantitative', subcategory: 'Algebra', difficultyBand: 'EASY', answer: 'x = 2' },
      },
      correct: false,
      userAnswer: 'x=3',
      timeSec: 14.5,
      hintUsed: true,
      answeredAt: exported.answeredAt,
      context: 'SESSION',
      registration: exported.sessionId,
      session: { startedAt: exported.sessionStartedAt, endedAt: exported.sessionEndedAt },
    });
  });

  test('a third-party statement: account actor, plain IRI, no result; other verbs are skipped', () => {
    const statement = {
      actor: { account: { homePage: 'https://lms.example.com', name: 'u-42' } },
      verb: { id: 'http://adlnet.gov/expapi/verbs/attempted' },
      object: { id: 'https://bank.example.com/q/17' },
      timestamp: '2025-08-11T14:03:22+02:00',
    };
    expect(xapiRecord({ json: JSON.stringify(statement) })).toMatchObject({
      actor: { email: null, account: 'https://lms.example.com|u-42' },
      question: { externalId: 'https://bank.example.com/q/17', definition: null },
      correct: null,
      context: 'PRACTICE',
      answeredAt: new Date('2025-08-11T12:03:22Z'),
    });
    expect(
      xapiRecord({ json: JSON.stringify({ ...statement, verb: { id: 'http://adlnet.gov/expapi/verbs/completed' } }) }),
    ).toEqual({
      kind: 'skipped',
      verb: 'http://adlnet.gov/expapi/verbs/completed',
    });
  });

  test('broken statements are refused with the reason', () => {
    expect(() => xapiRecord({ json: '{' })).toThrow('not a JSON statement');
    expect(() => xapiRecord({ json: JSON.stringify({ verb: { id: 'x' } }) })).toThrow('not an xAPI statement: actor');
    expect(() =>
      xapiRecord({
        json: JSON.stringify({
          actor: { mbox: 'mailto:a@b.c' },
          verb: { id: 'http://adlnet.gov/expapi/verbs/answered' },
          object: { id: 'q' },
        }),
      }),
    ).toThrow('no timestamp');
  });
});
