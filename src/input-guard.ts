// Text the database cannot store faithfully is refused at the boundary, for every argument at once:
// a NUL byte (PostgreSQL text cannot hold it) or a lone UTF-16 surrogate (not Unicode: it would be
// stored as U+FFFD, changing what was sent) in any string of the variables (JSON values and their
// keys included) or in any string literal of the document is BAD_USER_INPUT, before anything runs.
import { type DocumentNode, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from './errors.ts';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or null when it can. */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'a NUL character (\\u0000)';
  if (loneSurrogate.test(text)) return 'a lone UTF-16 surrogate (not Unicode text)';
  return null;
}

/** The first problem in a variables value (strings, object keys, nested lists and objects), with its path. */
function findInValue(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    return problem && `${path} contains ${problem}`;
  }
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const problem = findInValue(item, `${path}[${index}]`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = unstorableText(key);
    if (keyProblem) return `a key of ${path} contains ${keyProblem}`;
    const problem = findInValue(item, `${path}.${key}`, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** Documents are parsed once and cached by Yoga: so is what is found in them. */
const documentProblems = new WeakMap<DocumentNode, string | null>();

function findInDocument(document: DocumentNode): string | null {
  const known = documentProblems.get(document);
  if (known !== undefined) return known;
  let found: string | null = null;
  visit(document, {
    [Kind.STRING]: (node) => {
      const problem = unstorableText(node.value);
      if (problem) {
        found = `A string in the query contains ${problem}`;
        return false;
      }
      return undefined;
    },
  });
  documentProblems.set(document, found);
  return found;
}

export function inputProblem(document: DocumentNode, variables: Record<string, unknown> | null | undefined) {
  const inVariables = variables ? findInValue(variables, '$variables') : null;
  return inVariables ?? findInDocument(document);
}

const refusal = (problem: string) => ({
  errors: [badInput(`${problem}: send text without NUL characters or unpaired surrogates.`)],
});

export const refuseUnstorableText: Plugin = {
  onExecute: ({ args, setResultAndStopExecution }) => {
    const problem = inputProblem(args.document, args.variableValues);
    if (problem) setResultAndStopExecution(refusal(problem));
  },
  onSubscribe: ({ args, setResultAndStopExecution }) => {
    const problem = inputProblem(args.document, args.variableValues);
    if (problem) setResultAndStopExecution(refusal(problem));
  },
};
