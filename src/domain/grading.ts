/**
 * The form in which answers are compared: case-insensitive, surrounding whitespace ignored and
 * inner runs of whitespace folded to one space ("  New   York " grades equal to "new york").
 */
export function answerKey(answer: string): string {
  return answer.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}
