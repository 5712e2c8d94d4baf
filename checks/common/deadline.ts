/**
 * One way to hold a promise against the run's deadline: settle with it, or
 * reject with an `AbortError` the moment the signal fires. The loser of the
 * race never becomes an unhandled rejection.
 *
 * @module
 */

/** An `Error` named `AbortError`, as `fetch` and `Deno.connect` throw on abort. */
export function abortError(message = "aborted"): Error {
  const error = new Error(message);
  error.name = "AbortError";
  return error;
}

/** True for the error a deadline leaves behind (ours, `fetch`'s or a `DOMException`). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/**
 * `promise`, or a rejection with {@link abortError} as soon as `signal`
 * fires (at once when it has already fired).
 *
 * @example
 * ```ts
 * import { untilAborted } from "./deadline.ts";
 * const controller = new AbortController();
 * const never = new Promise<number>(() => {});
 * const raced = untilAborted(never, controller.signal);
 * controller.abort();
 * console.assert(await raced.catch((e) => e.name) === "AbortError");
 * ```
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // a late rejection after the abort is expected, not unhandled
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
