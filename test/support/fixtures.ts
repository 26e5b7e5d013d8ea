// A small world for API tests, created through the API itself: an admin, a coach, two learners and
// a handful of questions over two subcategories.
import { randomUUID } from 'node:crypto';
import { decodeGlobalId } from '../../src/ids.ts';
import { graphql } from '../gql/index.ts';
import { dataOf, type TestServer } from './server.ts';

export const CreateUserDocument = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) { id name email role timezone dailyQuestionBudget }
  }
`);

export const UpsertQuestionsDocument = graphql(`
  mutation UpsertQuestions($input: [QuestionInput!]!) {
    upsertQuestions(input: $input) { id externalId subcategory difficultyBand answer }
  }
`);

export interface Person {
  /** The global ID the API gives out. */
  id: string;
  /** The database id (the token's subject). */
  userId: string;
  token: string;
}

export interface World {
  admin: { token: string };
  coach: Person;
  alice: Person;
  bob: Person;
  questions: { id: string; externalId: string; subcategory: string; answer: string; difficultyBand: string }[];
}

export function rawId(globalId: string): string {
  return decodeGlobalId(globalId)!.id;
}

export async function createPerson(
  server: TestServer,
  adminToken: string,
  name: string,
  role: 'LEARNER' | 'COACH' | 'ADMIN' = 'LEARNER',
  timezone = 'UTC',
): Promise<Person> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomUUID().slice(0, 8)}@example.com`;
  const { createUser } = dataOf(
    await server.request(CreateUserDocument, { input: { name, email, role, timezone } }, adminToken),
  );
  const userId = rawId(createUser.id);
  return { id: createUser.id, userId, token: await server.tokenFor(userId, role) };
}

export const sampleQuestions = [
  {
    externalId: 'ALG-1',
    category: 'Quantitative',
    subcategory: 'Algebra',
    difficultyBand: 'EASY',
    answer: 'x = 2',
    options: ['x = 1', 'x = 2', 'x = 3', 'x = 4'],
  },
  {
    externalId: 'ALG-2',
    category: 'Quantitative',
    subcategory: 'Algebra',
    difficultyBand: 'MEDIUM',
    answer: '12',
    options: ['10', '11', '12', '13'],
  },
  {
    externalId: 'ALG-3',
    category: 'Quantitative',
    subcategory: 'Algebra',
    difficultyBand: 'HARD',
    answer: '-3',
    options: ['-3', '3', '0', '9'],
  },
  {
    externalId: 'GEO-1',
    category: 'Quantitative',
    subcategory: 'Geometry',
    difficultyBand: 'EASY',
    answer: '90',
    options: ['45', '90', '180', '360'],
  },
  {
    externalId: 'GEO-2',
    category: 'Quantitative',
    subcategory: 'Geometry',
    difficultyBand: 'MEDIUM',
    answer: 'New York',
    options: ['Paris', 'New York'],
  },
  {
    externalId: 'GEO-3',
    category: 'Quantitative',
    subcategory: 'Geometry',
    difficultyBand: 'HARD',
    answer: 'pi',
    options: ['pi', 'e'],
  },
] as const;

export async function createWorld(server: TestServer): Promise<World> {
  const adminToken = await server.tokenFor(randomUUID(), 'ADMIN');
  const coach = await createPerson(server, adminToken, 'Cole Coach', 'COACH');
  const alice = await createPerson(server, adminToken, 'Alice Learner');
  const bob = await createPerson(server, adminToken, 'Bob Learner');
  const { upsertQuestions } = dataOf(
    await server.request(
      UpsertQuestionsDocument,
      { input: sampleQuestions.map((q) => ({ ...q, options: [...q.options] })) },
      adminToken,
    ),
  );
  return {
    admin: { token: adminToken },
    coach,
    alice,
    bob,
    questions: upsertQuestions.map((q) => ({
      id: q.id,
      externalId: q.externalId,
      subcategory: q.subcategory,
      answer: q.answer ?? '',
      difficultyBand: q.difficultyBand,
    })),
  };
}
