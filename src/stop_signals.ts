/**
 * The signals that end (SIGINT, SIGTERM) or reload (SIGHUP) the agent.
 * Listeners stay until the process exits: without one, a repeated signal
 * (the same one sent to the process group and forwarded by the launcher)
 * would end the process with 128 + N in its last moments.
 *
 * @module
 */

/** Resolves with the first stop signal; `onHangup` is called for every SIGHUP. */
export function waitForStop(onHangup: () => void): Promise<Deno.Signal> {
  const stopped = Promise.withResolvers<Deno.Signal>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve(signal));
  }
  Deno.addSignalListener("SIGHUP", onHangup);
  return stopped.promise;
}
