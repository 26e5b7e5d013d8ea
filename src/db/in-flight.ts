// Reading ahead on a transaction's one connection: a query started before the process works on what the
// query before it returned runs in PostgreSQL meanwhile, instead of after. Statements still run in the
// order they were sent, so a read sent ahead sees nothing that the work it overlaps writes afterwards.

/**
 * Works through `chunks` in order: `work` gets each chunk with what `read` returned for it, and the next
 * chunk's read is sent before the chunk in hand is worked on, unless `ahead(current, next)` says that
 * read must see what this chunk's work writes (then it is sent after). `read` also gets the previous
 * chunk's result, to reuse what a run reads once.
 */
export async function readingAhead<Chunk, Read>(
  chunks: readonly Chunk[],
  read: (chunk: Chunk, previous: Read | undefined) => Promise<Read>,
  work: (chunk: Chunk, read: Read) => Promise<void>,
  ahead: (current: Chunk, next: Chunk) => boolean = () => true,
): Promise<void> {
  let pending = chunks.length > 0 ? read(chunks[0]!, undefined) : undefined;
  for (const [k, chunk] of chunks.entries()) {
    const current = await pending!;
    const following = chunks[k + 1];
    const early = following !== undefined && ahead(chunk, following);
    pending = early ? (await inFlight(read(following, current))).result : undefined;
    await work(chunk, current);
    if (following !== undefined && !early) pending = read(following, current);
  }
}

/**
 * Returns once the query is on its way (Prisma's queries run when awaited, and reach the connection a
 * turn of the event loop later), its result marked handled: a failure while the caller works on
 * something else is not an unhandled rejection, it surfaces where the caller awaits it.
 */
async function inFlight<T>(result: Promise<T>): Promise<{ result: Promise<T> }> {
  result.catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  return { result }; // wrapped: an async function would otherwise wait for it
}
