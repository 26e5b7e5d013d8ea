import { ApiError } from '../api.ts';
import { notice } from '../dom.ts';

export const learnerHref = (id: string): string => `#/learner/${encodeURIComponent(id)}`;

/** The API's error as a message: its code (FORBIDDEN, …) and what it says to do. */
export function errorNotice(error: unknown): HTMLElement {
  if (error instanceof ApiError) return notice('error', `${error.code}: ${error.message}`);
  return notice('error', `Something went wrong: ${error instanceof Error ? error.message : String(error)}`);
}
