// Clean-up for the benchmarks: everything opened is closed (and bench databases dropped) in reverse
// order, at the end, part-way (unwind to a mark), or on Ctrl-C.

const cleanups: { label: string; run: () => Promise<unknown> }[] = [];

export function defer(label: string, run: () => Promise<unknown>): void {
  cleanups.push({ label, run });
}

/** How many clean-ups are pending: unwind(mark) later undoes only what came after. */
export function cleanupMark(): number {
  return cleanups.length;
}

export async function unwind(downTo = 0): Promise<void> {
  while (cleanups.length > downTo) {
    const { label, run } = cleanups.pop()!;
    try {
      await run();
    } catch (error) {
      console.error(`clean-up (${label}) failed: ${(error as Error).message}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void unwind().finally(() => process.exit(130));
  });
}
