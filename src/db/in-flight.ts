// Reading ahead on a transaction's one connection: a query started before the process works on what the
// query before it returned runs in PostgreSQL meanwhile, instead of after. Statements still run in the
// order they were sent, so a read sent ahead sees nothing that the work it overlaps writes afterwards.

/**
 * Starts a query and returns once it is on its way (Prisma's queries run when awaited, and reach the
 * connection a turn of the event loop later). Its result is marked handled, so a failure while the
 * caller works on something else is not an unhandled rejection: it surfaces where the caller awaits it.
 */
export async function inFlight<T>(result: Promise<T>): Promise<{ result: Promise<T> }> {
  result.catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  return { result };
}
