/**
 * Reads an HTTP response body up to a cap, bounded by the run's signal, for
 * every check that reads bodies (nginx, http). A body over the cap is never
 * read to its end: a larger `Content-Length` is refused before reading, and a
 * longer (or endless) stream is cancelled at the cap, which closes the
 * connection under it.
 *
 * @module
 */

import { untilAborted } from "./deadline.ts";

/** What became of one body. */
export type BodyRead =
  /** The whole body, at most the cap. */
  | { kind: "complete"; bytes: Uint8Array }
  /**
   * More than the cap: `bytes` is the declared `Content-Length` (`declared`)
   * or what had arrived when reading stopped; `head` holds the first bytes,
   * at most the cap (empty when the declared length refused the body).
   */
  | { kind: "too_large"; bytes: number; declared: boolean; head: Uint8Array }
  /** The signal fired first; `bytes` had arrived by then. */
  | { kind: "aborted"; bytes: number }
  /** The stream broke (connection reset, cut off before its declared end). */
  | { kind: "failed"; bytes: number; error: unknown };

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads at most `limit` bytes of `response`'s body. Never throws: every way
 * it can end is a {@link BodyRead}, and the stream is cancelled on every way
 * but `complete`.
 *
 * @example
 * ```ts
 * import { readCappedBody } from "./http_body.ts";
 * const read = await readCappedBody(new Response("0123456789"), 4, new AbortController().signal);
 * console.assert(read.kind === "too_large" && read.head.length === 4);
 * ```
 */
export async function readCappedBody(
  response: Response,
  limit: number,
  signal: AbortSignal,
): Promise<BodyRead> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    return { kind: "too_large", bytes: declared, declared: true, head: new Uint8Array() };
  }
  return await readCappedStream(response.body, limit, signal);
}

/**
 * Reads at most `limit` bytes of a body stream (`null`: no body), for a
 * body that does not come from `fetch` or whose declared length should not
 * refuse it: over the cap it is `too_large` with the first `limit` bytes in
 * `head`. Never throws; the stream is cancelled on every way but `complete`.
 */
export async function readCappedStream(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  signal: AbortSignal,
): Promise<BodyRead> {
  if (body === null) return { kind: "complete", bytes: new Uint8Array() };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { done, value } = await untilAborted(reader.read(), signal);
      if (done) return { kind: "complete", bytes: concat(chunks, total) };
      if (total + value.byteLength > limit) {
        chunks.push(value.subarray(0, limit - total));
        const head = concat(chunks, limit);
        total += value.byteLength;
        await reader.cancel().catch(() => {});
        return { kind: "too_large", bytes: total, declared: false, head };
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    const cancelled = reader.cancel().catch(() => {});
    // After the deadline answer at once; the cancel finishes on its own.
    if (!signal.aborted) await cancelled;
    return signal.aborted
      ? { kind: "aborted", bytes: total }
      : { kind: "failed", bytes: total, error };
  }
}
