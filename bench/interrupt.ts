/**
 * What must not outlive an interrupted bench: a SIGINT or SIGTERM to the
 * bench process ends its `await`s without their `finally`, so whatever
 * starts a process that would survive it (an agent, a detached task tree, a
 * server) registers its stop here while it runs; bench/main.ts runs them all
 * on the signal, then exits.
 *
 * @module
 */

const stops = new Set<() => unknown>();

/** Registers `stop` until the returned function is called. */
export function untilDone(stop: () => unknown): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

/** Runs every registered stop, newest first; failures are ignored (it is a last resort). */
export async function stopEverything(): Promise<void> {
  for (const stop of [...stops].reverse()) {
    try {
      await stop();
    } catch { /* already gone */ }
  }
  stops.clear();
}
