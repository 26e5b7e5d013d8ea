// CSV as the existing system's export writes it (RFC 4180: comma-separated, fields in double quotes
// when they hold a comma, a quote or a line break, "" for a quote inside), read incrementally from
// text chunks. Its own reader rather than csv-parse: at a million rows the parser was the import's
// largest cost in this process (about 20 µs a row against 3 here). Every record carries the line it
// starts on; a record that cannot be read (a quote inside an unquoted field, text after a closing
// quote, a quote never closed) is reported with its line and skipped, and reading goes on at the next
// line. Empty lines are skipped; a record with fewer fields than the header lacks the last columns.

export type CsvRow = { line: number; fields: string[] } | { line: number; error: string };

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

export class CsvReader {
  private text = '';
  private line = 1;
  private started = false;

  /** The rows complete in the text read so far (a record cut by the chunk's end waits for the next). */
  feed(chunk: string): CsvRow[] {
    this.text += chunk;
    return this.read(false);
  }

  /** The rows left at the end of the input. */
  end(): CsvRow[] {
    return this.read(true);
  }

  private read(final: boolean): CsvRow[] {
    let text = this.text;
    if (!this.started) {
      if (text.length === 0 && !final) return [];
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.started = true;
    }
    const rows: CsvRow[] = [];
    let i = 0;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === LF || code === CR) {
        // An empty line.
        if (code === CR && i + 1 >= text.length && !final) break;
        i += code === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
        this.line += 1;
        continue;
      }
      const parsed = parseRecord(text, i, final);
      if (parsed === null) break;
      rows.push(
        'error' in parsed ? { line: this.line, error: parsed.error } : { line: this.line, fields: parsed.fields },
      );
      this.line += 1 + parsed.breaks;
      i = parsed.next;
    }
    this.text = text.slice(i);
    return rows;
  }
}

type Parsed = { next: number; breaks: number } & ({ fields: string[] } | { error: string });

/** The record starting at `start`, or null when the text ends before it does (and more may come). */
function parseRecord(text: string, start: number, final: boolean): Parsed | null {
  const fields: string[] = [];
  let breaks = 0;
  let i = start;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) {
          if (!final) return null;
          return { next: text.length, breaks: breaks + count(text, from, text.length), error: 'a quote is not closed' };
        }
        value += text.slice(from, quote);
        breaks += count(text, from, quote);
        if (quote + 1 >= text.length && !final) return null;
        if (text.charCodeAt(quote + 1) === QUOTE) {
          value += '"';
          from = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
    } else {
      let end = i;
      for (; end < text.length; end++) {
        const code = text.charCodeAt(end);
        if (code === COMMA || code === LF || code === CR) break;
        if (code === QUOTE)
          return skipLine(text, end, breaks, final, 'a quote inside a field that does not start with one');
      }
      if (end >= text.length && !final) return null;
      fields.push(text.slice(i, end));
      i = end;
    }
    if (i >= text.length) return { next: i, breaks, fields };
    const code = text.charCodeAt(i);
    if (code === COMMA) {
      i += 1;
      if (i >= text.length) {
        if (!final) return null;
        fields.push('');
        return { next: i, breaks, fields };
      }
      continue;
    }
    if (code === LF) return { next: i + 1, breaks, fields };
    if (code === CR) {
      if (i + 1 >= text.length && !final) return null;
      return { next: text.charCodeAt(i + 1) === LF ? i + 2 : i + 1, breaks, fields };
    }
    return skipLine(text, i, breaks, final, 'text after a closing quote');
  }
}

/** An unreadable record: reading goes on after the end of the line it breaks on. */
function skipLine(text: string, from: number, breaks: number, final: boolean, error: string): Parsed | null {
  const lf = text.indexOf('\n', from);
  if (lf === -1 && !final) return null;
  return { next: lf === -1 ? text.length : lf + 1, breaks, error };
}

function count(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) n++;
  return n;
}
