// A file of xAPI statements: JSON lines (one statement per line), or one JSON array. Each statement
// is a record { json } with its line (JSON lines) or its position in the array, so the report points
// at it and xapiRecord (xapi.ts) refuses a broken one without stopping the import.
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { SourceChunk, SourceItem, TableSource } from './sources.ts';

export function xapiFile(file: string): TableSource {
  return {
    async tables() {
      return [
        {
          name: 'statements',
          label: path.basename(file),
          size: statSync(file).size,
          chunks: (n) => statementChunks(file, n),
        },
      ];
    },
    async close() {},
  };
}

async function* statementChunks(file: string, chunkSize: number): AsyncIterable<SourceChunk> {
  const head = await firstCharacter(file);
  if (head === '[') {
    // A JSON array is read whole: one statement per element, numbered from 1.
    const text = await readFile(file, 'utf8');
    let statements: unknown[];
    try {
      statements = JSON.parse(text);
    } catch (error) {
      yield {
        items: [],
        unreadable: [{ line: 1, reason: `not a JSON array: ${(error as Error).message}` }],
        position: text.length,
      };
      return;
    }
    for (let i = 0; i < statements.length; i += chunkSize) {
      const items = statements
        .slice(i, i + chunkSize)
        .map((statement, k) => ({ line: `statement ${i + k + 1}`, record: { json: JSON.stringify(statement) } }));
      yield {
        items,
        unreadable: [],
        position: Math.round((text.length * Math.min(statements.length, i + chunkSize)) / statements.length),
      };
    }
    return;
  }
  const stream = createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let items: SourceItem[] = [];
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    items.push({ line, record: { json: text } });
    if (items.length >= chunkSize) {
      yield { items, unreadable: [], position: stream.bytesRead };
      items = [];
    }
  }
  if (items.length > 0) yield { items, unreadable: [], position: stream.bytesRead };
}

async function firstCharacter(file: string): Promise<string> {
  const stream = createReadStream(file, { start: 0, end: 4095, encoding: 'utf8' });
  for await (const chunk of stream) {
    const trimmed = (chunk as string).replace(/^\uFEFF/, '').trimStart();
    if (trimmed) {
      stream.destroy();
      return trimmed[0]!;
    }
  }
  return '';
}
