// The CSV reader of the import: RFC 4180 as the existing system writes it, read in chunks cut anywhere.
import { describe, expect, test } from 'vitest';
import { CsvReader, type CsvRow } from '../../src/import/csv.ts';

const file =
  '\ufeffid,user_answer,options\r\n' +
  '1,plain,"[""A) 12"",""B) 14""]"\r\n' +
  '\r\n' +
  '2,"a, comma",\r\n' +
  '3,"two\nlines",x\n' +
  '4,"say ""hi""",""\n' +
  '5,short\n' +
  '6,last,"end"';

const expected: CsvRow[] = [
  { line: 1, fields: ['id', 'user_answer', 'options'] },
  { line: 2, fields: ['1', 'plain', '["A) 12","B) 14"]'] },
  { line: 4, fields: ['2', 'a, comma', ''] },
  { line: 5, fields: ['3', 'two\nlines', 'x'] },
  { line: 7, fields: ['4', 'say "hi"', ''] },
  { line: 8, fields: ['5', 'short'] },
  { line: 9, fields: ['6', 'last', 'end'] },
];

function readInPieces(text: string, size: number): CsvRow[] {
  const reader = new CsvReader();
  const rows: CsvRow[] = [];
  for (let i = 0; i < text.length; i += size) rows.push(...reader.feed(text.slice(i, i + size)));
  return [...rows, ...reader.end()];
}

describe('CSV reader', () => {
  test('quoted fields, doubled quotes, line breaks inside quotes, CRLF, a BOM and empty lines', () => {
    expect(readInPieces(file, file.length)).toEqual(expected);
  });

  test('the same rows however the text is cut into chunks', () => {
    for (const size of [1, 2, 3, 5, 7, 16]) expect(readInPieces(file, size)).toEqual(expected);
  });

  test('an unreadable record is reported with its line and reading goes on at the next line', () => {
    const text = 'id,x\n1,ok\n2,bro"ken\n3,"closed"junk\n4,fine\n5,"never closed\n6,gone\n';
    for (const size of [1, 4, text.length]) {
      expect(readInPieces(text, size)).toEqual([
        { line: 1, fields: ['id', 'x'] },
        { line: 2, fields: ['1', 'ok'] },
        { line: 3, error: 'a quote inside a field that does not start with one' },
        { line: 4, error: 'text after a closing quote' },
        { line: 5, fields: ['4', 'fine'] },
        { line: 6, error: 'a quote is not closed' },
      ]);
    }
  });

  test('a last record without a line break, and a trailing comma', () => {
    expect(readInPieces('a,b\n1,', 1)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', ''] },
    ]);
  });
});
