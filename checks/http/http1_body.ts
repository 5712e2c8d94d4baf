/**
 * The body of an HTTP/1.1 response (RFC 9112, section 6): its framing (none,
 * a length, chunked, or until the close) and a stream of its bytes with the
 * framing removed, read only as fast as the caller pulls.
 *
 * @module
 */

import { type ByteReader, HttpProtocolError, MAX_LINE_BYTES, type ResponseHead } from "./http1.ts";

/** How the body is delimited (RFC 9112, section 6.3). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** The body's framing for this head, answering a request with `method`. */
export function framingOf(head: ResponseHead, method: string): Framing {
  const { status, headers } = head;
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return { kind: "none" };
  }
  const encoding = headers.get("transfer-encoding");
  if (encoding !== null) {
    const last = encoding.split(",").map((c) => c.trim().toLowerCase()).pop();
    return last === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const length = headers.get("content-length");
  if (length === null) return { kind: "close" };
  const values = new Set(length.split(",").map((v) => v.trim()));
  const [value] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(value)) {
    throw new HttpProtocolError(`the Content-Length ${JSON.stringify(length)} is not one length`);
  }
  return { kind: "length", bytes: Number(value) };
}

/** The largest piece a body read hands out at once. */
const PIECE_BYTES = 64 * 1024;

/**
 * The body as a stream of its bytes, framing removed; it errors with an
 * {@link HttpProtocolError} when the body breaks its framing (cut off
 * before its length, a bad chunk). `onCancel` runs when the reader gives up
 * early (the body cap, the deadline), to close the connection under it.
 */
export function bodyStream(
  reader: ByteReader,
  framing: Framing,
  onCancel: () => void,
): ReadableStream<Uint8Array> | null {
  if (framing.kind === "none") return null;
  let left = framing.kind === "length" ? framing.bytes : 0;
  let done = framing.kind === "length" && left === 0;
  let delivered = 0;
  const cutOff = (expected: string) =>
    new HttpProtocolError(
      `the connection closed after ${delivered} bytes of the body, ${expected}`,
    );
  const piece = async (): Promise<Uint8Array | null> => {
    if (done) return null;
    if (framing.kind === "close") return await reader.some(PIECE_BYTES);
    if (framing.kind === "length") {
      const bytes = await reader.some(Math.min(left, PIECE_BYTES));
      if (bytes === null) throw cutOff(`of ${framing.bytes} announced`);
      left -= bytes.length;
      done = left === 0;
      return bytes;
    }
    if (left === 0) {
      const line = await reader.line(MAX_LINE_BYTES, "a chunk size line");
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(line);
      if (!size) {
        throw new HttpProtocolError(
          `a chunk size is not hexadecimal: ${JSON.stringify(line.slice(0, 40))}`,
        );
      }
      left = parseInt(size[1], 16);
      if (left === 0) {
        // trailers, until the blank line that ends the message
        for (let n = 0; (await reader.line(MAX_LINE_BYTES, "the trailers")) !== ""; n++) {
          if (n > 100) throw new HttpProtocolError("more than 100 trailer lines");
        }
        done = true;
        return null;
      }
    }
    const bytes = await reader.some(Math.min(left, PIECE_BYTES));
    if (bytes === null) throw cutOff("in the middle of a chunk");
    left -= bytes.length;
    if (left === 0 && (await reader.line(2, "the end of a chunk")) !== "") {
      throw new HttpProtocolError("a chunk is longer than its size says");
    }
    return bytes;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const bytes = await piece();
        if (bytes === null) return controller.close();
        delivered += bytes.length;
        controller.enqueue(bytes);
      } catch (error) {
        controller.error(error);
      }
    },
    cancel: onCancel,
  }, { highWaterMark: 0 });
}
