// `npm run lint` runs this after Biome: Biome wraps code at 120 columns but leaves comments, strings
// and Markdown alone, so this fails on any line over 120 characters in the tracked TypeScript,
// Markdown and JSON files (generated files, which nobody edits, excepted).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const maxLineLength = 120;
const generated = new Set(['package-lock.json', 'schema.graphql']);

/** The lines of `text` over the limit: [line number, length]. */
function longLines(text: string): [number, number][] {
  return text
    .split('\n')
    .map((line, index): [number, number] => [index + 1, [...line].length])
    .filter(([, length]) => length > maxLineLength);
}

const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.md', '*.json'], { encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '' && !generated.has(file) && existsSync(file)); // a deletion not yet staged
let found = 0;
for (const file of files) {
  for (const [line, length] of longLines(readFileSync(file, 'utf8'))) {
    console.error(`${file}:${line}: ${length} characters (at most ${maxLineLength})`);
    found++;
  }
}
if (found > 0) {
  console.error(`${found} line(s) over ${maxLineLength} characters: wrap comments and split long strings`);
  process.exit(1);
}
