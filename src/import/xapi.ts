// xAPI (1.0.3 / 2.0) statements as Learnloop reads and writes them. Pure: the statement's shape is
// checked with zod (the fields Learnloop reads; the types are @xapi/xapi's), and mapped to an
// attempt, or to "skipped" for verbs other than answered/attempted.
//
//   actor            mbox mailto:<email> → the user with that email (created when missing, named by
//                    actor.name); an account → the user whose externalId is its name, else the user
//                    an earlier import mapped the account to
//   object.id        the question whose externalId it is (urn:learnloop:question:<externalId> as
//                    Learnloop writes it, or the IRI itself); a definition carrying category,
//                    subcategory and difficulty band in its extensions creates a missing question
//   result           success → correct (graded like recordAttempt when absent), response →
//                    userAnswer, duration (ISO 8601) → timeSec, extension hintUsed
//   timestamp        answeredAt (and the attempt is recorded then)
//   context          registration → the learner's session of that registration (SESSION context);
//                    without one the extension context (PRACTICE by default)
import { createHash } from 'node:crypto';
import type { Statement } from '@xapi/xapi';
import { z } from 'zod';
import type { AttemptContext, DifficultyBand } from '../generated/prisma/client.ts';
import { RowError, type SourceRecord } from './records.ts';

export const answeredVerb = 'http://adlnet.gov/expapi/verbs/answered';
const attemptVerbs = new Set([answeredVerb, 'http://adlnet.gov/expapi/verbs/attempted']);
export const questionIriPrefix = 'urn:learnloop:question:';

/** Learnloop's extensions (IRIs). */
export const extension = {
  context: 'urn:learnloop:context',
  hintUsed: 'urn:learnloop:hint-used',
  category: 'urn:learnloop:category',
  subcategory: 'urn:learnloop:subcategory',
  difficultyBand: 'urn:learnloop:difficulty-band',
  sessionStartedAt: 'urn:learnloop:session-started-at',
  sessionEndedAt: 'urn:learnloop:session-ended-at',
  timezone: 'urn:learnloop:timezone',
} as const;

const extensions = z.record(z.string(), z.unknown()).optional();
const statementSchema = z.object({
  id: z.string().optional(),
  actor: z.object({
    name: z.string().optional(),
    mbox: z.string().startsWith('mailto:').optional(),
    account: z.object({ homePage: z.string(), name: z.string() }).optional(),
  }),
  verb: z.object({ id: z.string() }),
  object: z.object({
    id: z.string(),
    definition: z.object({ correctResponsesPattern: z.array(z.string()).optional(), extensions }).optional(),
  }),
  result: z
    .object({
      success: z.boolean().optional(),
      response: z.string().optional(),
      duration: z.string().optional(),
      extensions,
    })
    .optional(),
  context: z.object({ registration: z.string().optional(), extensions }).optional(),
  timestamp: z.string().optional(),
  stored: z.string().optional(),
});

export interface XapiActor {
  email: string | null;
  /** homePage|name of an account actor. */
  account: string | null;
  /** The account's name: the user whose externalId it is. */
  accountName: string | null;
  name: string | null;
  timezone: string | null;
}

export interface XapiQuestion {
  externalId: string;
  /** What a missing question is created from (null: the statement does not say). */
  definition: { category: string; subcategory: string; difficultyBand: DifficultyBand; answer: string } | null;
}

export interface XapiAttempt {
  kind: 'attempt';
  statementId: string;
  actor: XapiActor;
  question: XapiQuestion;
  correct: boolean | null;
  userAnswer: string;
  timeSec: number;
  hintUsed: boolean;
  answeredAt: Date;
  context: AttemptContext;
  registration: string | null;
  session: { startedAt: Date | null; endedAt: Date | null };
}

export type XapiRecord = XapiAttempt | { kind: 'skipped'; verb: string };

const duration = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** An ISO 8601 duration (PT12.5S, PT1M3S, P1DT2H) in seconds. */
export function durationSeconds(value: string): number {
  const match = duration.exec(value);
  if (!match || value === 'P' || value.endsWith('T'))
    throw new RowError(`result.duration ${value} is not an ISO 8601 duration`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return Number(days) * 86_400 + Number(hours) * 3_600 + Number(minutes) * 60 + Number(seconds);
}

/** Seconds as an ISO 8601 duration, as xAPI writes result.duration. */
export function isoDuration(seconds: number): string {
  return `PT${Number(seconds.toFixed(3))}S`;
}

function instant(value: unknown, field: string): Date | null {
  if (value === undefined || value === null) return null;
  const parsed = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw new RowError(`${field} is not an ISO 8601 timestamp`);
  return parsed;
}

const contexts = new Set<AttemptContext>(['SESSION', 'PRACTICE', 'DAILY']);
const bands = new Set<DifficultyBand>(['EASY', 'MEDIUM', 'HARD']);

/** One statement (a JSON text, as one line of the file holds it) as an attempt, or skipped. */
export function xapiRecord(record: SourceRecord): XapiRecord {
  let json: unknown;
  try {
    json = JSON.parse(record.json ?? '');
  } catch {
    throw new RowError('not a JSON statement');
  }
  const parsed = statementSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RowError(`not an xAPI statement: ${issue.path.join('.') || 'statement'}: ${issue.message}`);
  }
  const s = parsed.data;
  if (!attemptVerbs.has(s.verb.id)) return { kind: 'skipped', verb: s.verb.id };
  const answeredAt = instant(s.timestamp ?? s.stored, 'timestamp');
  if (!answeredAt) throw new RowError('the statement has no timestamp');
  const contextExtensions = s.context?.extensions ?? {};
  const registration = s.context?.registration ?? null;
  const stated = contextExtensions[extension.context];
  // A SESSION attempt without a registration is one that lay in no session (as an import keeps it).
  const context = registration
    ? 'SESSION'
    : typeof stated === 'string' && contexts.has(stated as AttemptContext)
      ? (stated as AttemptContext)
      : 'PRACTICE';
  if (!s.actor.mbox && !s.actor.account) throw new RowError('actor has neither mbox nor account');
  const timeSec = s.result?.duration ? durationSeconds(s.result.duration) : 0;
  if (timeSec > 86_400) throw new RowError('result.duration is longer than a day');
  return {
    kind: 'attempt',
    statementId: s.id ?? createHash('sha256').update(record.json!).digest('hex').slice(0, 32),
    actor: {
      email: s.actor.mbox ? s.actor.mbox.slice('mailto:'.length).toLowerCase() : null,
      account: s.actor.account ? `${s.actor.account.homePage}|${s.actor.account.name}` : null,
      accountName: s.actor.account?.name ?? null,
      name: s.actor.name ?? null,
      timezone:
        typeof contextExtensions[extension.timezone] === 'string'
          ? (contextExtensions[extension.timezone] as string)
          : null,
    },
    question: {
      externalId: s.object.id.startsWith(questionIriPrefix)
        ? decodeURIComponent(s.object.id.slice(questionIriPrefix.length))
        : s.object.id,
      definition: questionDefinition(s.object.definition),
    },
    correct: s.result?.success ?? null,
    userAnswer: s.result?.response ?? '',
    timeSec,
    hintUsed: s.result?.extensions?.[extension.hintUsed] === true,
    answeredAt,
    context,
    registration,
    session: {
      startedAt: instant(contextExtensions[extension.sessionStartedAt], 'session start'),
      endedAt: instant(contextExtensions[extension.sessionEndedAt], 'session end'),
    },
  };
}

function questionDefinition(
  definition: { correctResponsesPattern?: string[]; extensions?: Record<string, unknown> } | undefined,
): XapiQuestion['definition'] {
  const ext = definition?.extensions ?? {};
  const [category, subcategory, band] = [
    ext[extension.category],
    ext[extension.subcategory],
    ext[extension.difficultyBand],
  ];
  const answer = definition?.correctResponsesPattern?.[0];
  if (
    typeof category !== 'string' ||
    typeof subcategory !== 'string' ||
    typeof band !== 'string' ||
    answer === undefined
  )
    return null;
  if (!bands.has(band as DifficultyBand)) return null;
  return { category, subcategory, difficultyBand: band as DifficultyBand, answer };
}

export interface ExportedAttempt {
  id: string;
  userName: string;
  email: string;
  timezone: string;
  externalId: string;
  category: string;
  subcategory: string;
  difficultyBand: DifficultyBand;
  answer: string;
  context: AttemptContext;
  userAnswer: string;
  correct: boolean;
  timeSec: number;
  hintUsed: boolean;
  answeredAt: Date | null;
  recordedAt: Date;
  sessionId: string | null;
  sessionStartedAt: Date | null;
  sessionEndedAt: Date | null;
}

/** An attempt as an xAPI statement: what xapiRecord reads back into the same attempt. */
export function attemptStatement(a: ExportedAttempt): Statement {
  const contextExtensions: Record<string, unknown> = {
    [extension.context]: a.context,
    [extension.timezone]: a.timezone,
  };
  if (a.sessionStartedAt) contextExtensions[extension.sessionStartedAt] = a.sessionStartedAt.toISOString();
  if (a.sessionEndedAt) contextExtensions[extension.sessionEndedAt] = a.sessionEndedAt.toISOString();
  return {
    id: a.id,
    actor: { objectType: 'Agent', name: a.userName, mbox: `mailto:${a.email}` },
    verb: { id: answeredVerb, display: { 'en-US': 'answered' } },
    object: {
      objectType: 'Activity',
      id: `${questionIriPrefix}${encodeURIComponent(a.externalId)}`,
      definition: {
        type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
        interactionType: 'other',
        correctResponsesPattern: [a.answer],
        extensions: {
          [extension.category]: a.category,
          [extension.subcategory]: a.subcategory,
          [extension.difficultyBand]: a.difficultyBand,
        },
      },
    },
    result: {
      success: a.correct,
      response: a.userAnswer,
      duration: isoDuration(a.timeSec),
      extensions: { [extension.hintUsed]: a.hintUsed },
    },
    context: { ...(a.sessionId ? { registration: a.sessionId } : {}), extensions: contextExtensions },
    timestamp: (a.answeredAt ?? a.recordedAt).toISOString(),
    stored: a.recordedAt.toISOString(),
    version: '1.0.3',
  } as Statement;
}
