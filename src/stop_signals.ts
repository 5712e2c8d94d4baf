/**
 * The signals that end (SIGINT, SIGTERM) or reload (SIGHUP) the agent,
 * listened for from the first moment of the process (a SIGHUP during
 * start-up is kept for when the agent is up, instead of ending it). The
 * listeners stay until the process exits: without one, a repeated signal
 * (the same one sent to the process group and forwarded by the launcher)
 * would end the process with 128 + N in its last moments.
 *
 * @module
 */

/** The signals as a line of events. */
export interface StopSignals {
  /** The next signal: a stop (SIGINT, SIGTERM) or a reload (SIGHUP). */
  next(): Promise<Deno.Signal>;
}

/** Listens from now on. */
export function listenForSignals(): StopSignals {
  const pending: Deno.Signal[] = [];
  let waiter: ((signal: Deno.Signal) => void) | undefined;
  let stopped = false;
  const deliver = (signal: Deno.Signal) => {
    if (stopped && signal !== "SIGHUP") return; // one stop is enough
    if (signal !== "SIGHUP") stopped = true;
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(signal);
    } else pending.push(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    Deno.addSignalListener(signal, () => deliver(signal));
  }
  return {
    next() {
      const first = pending.shift();
      if (first) return Promise.resolve(first);
      return new Promise((resolve) => waiter = resolve);
    },
  };
}
