/**
 * A small, bounded HTTP/1.1 response reader: the client side of one request
 * on a connection of its own (`Connection: close`). It exists because
 * `fetch` hides the phases this check times (connect, TLS, first byte,
 * body). It reads from any {@link ChunkSource}, so it is tested on captured
 * and garbage bytes without a socket. This file reads the response head;
 * `http1_body.ts` the body.
 *
 * Bounds: the response head (status line and headers, interim 1xx answers
 * included) is at most {@link MAX_HEAD_BYTES}; a chunk-size line or trailer
 * line at most {@link MAX_LINE_BYTES}; the body is read as the caller pulls
 * it (see `readCappedStream`). Anything that is not HTTP/1.x, or breaks its
 * framing, is an {@link HttpProtocolError} that says what arrived.
 *
 * @module
 */

import { previewBytes } from "../common/bytes.ts";

/** Where response bytes come from: the next chunk, or null once the peer has ended. */
export interface ChunkSource {
  next(): Promise<Uint8Array | null>;
}

/** The answer was not HTTP, or broke HTTP's framing; the message says how. */
export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HttpProtocolError";
  }
}

/** The most bytes of response head read (status lines and headers, interim answers included). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** The longest chunk-size or trailer line. */
export const MAX_LINE_BYTES = 4096;

const CRLF = /\r?\n/;
const HEAD_END = [0x0d, 0x0a, 0x0d, 0x0a];
const HTTP_PREFIX = new TextEncoder().encode("HTTP/");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A status line and its headers. */
export interface ResponseHead {
  /** `1.0` or `1.1`. */
  version: string;
  status: number;
  statusText: string;
  headers: Headers;
}

/** Buffered reading over a {@link ChunkSource}. */
export class ByteReader {
  #buffer = new Uint8Array(0);
  #ended = false;
  /** Bytes taken from the source so far. */
  received = 0;

  constructor(private readonly source: ChunkSource) {}

  /** Reads one more chunk into the buffer; false at the end of the stream. */
  async fill(): Promise<boolean> {
    if (this.#ended) return false;
    const chunk = await this.source.next();
    if (chunk === null) {
      this.#ended = true;
      return false;
    }
    this.received += chunk.length;
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  /** What is buffered and not yet taken. */
  get buffered(): Uint8Array {
    return this.#buffer;
  }

  /** Takes `n` buffered bytes. */
  take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return taken;
  }

  /**
   * Up to `max` bytes: buffered ones first, else the next chunk; null at the
   * end of the stream.
   */
  async some(max: number): Promise<Uint8Array | null> {
    if (this.#buffer.length === 0 && !await this.fill()) return null;
    return this.take(Math.min(max, this.#buffer.length));
  }

  /** One line without its line end, at most `max` bytes; `what` names it in errors. */
  async line(max: number, what: string): Promise<string> {
    while (true) {
      const end = this.#buffer.indexOf(0x0a);
      if (end >= 0) {
        const text = new TextDecoder("latin1").decode(this.take(end + 1));
        return text.replace(CRLF, "");
      }
      if (this.#buffer.length > max) {
        throw new HttpProtocolError(`${what} is longer than ${max} bytes`);
      }
      if (!await this.fill()) {
        throw new HttpProtocolError(`the connection closed in the middle of ${what}`);
      }
    }
  }
}

/** The index just past the blank line that ends a head (CRLF CRLF, or bare LF LF), or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return i + 2;
    if (bytes[i + 1] === HEAD_END[2] && bytes[i + 2] === HEAD_END[3]) return i + 3;
  }
  return -1;
}

/** False as soon as the first bytes cannot be the start of `HTTP/`. */
function couldBeHttp(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, HTTP_PREFIX.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== HTTP_PREFIX[i]) return false;
  return true;
}

function notHttp(bytes: Uint8Array): HttpProtocolError {
  return new HttpProtocolError(`it began with ${previewBytes(bytes)}`);
}

/** Parses one head (the bytes up to and including its blank line). */
export function parseHead(bytes: Uint8Array): ResponseHead {
  const lines = new TextDecoder("latin1").decode(bytes).split(CRLF);
  const statusLine = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([^\0\r\n]*))?$/.exec(lines[0]);
  if (!statusLine) {
    throw new HttpProtocolError(
      `the status line is not HTTP/1.x: ${previewBytes(new TextEncoder().encode(lines[0]), 40)}`,
    );
  }
  const [, major, minor, code, reason = ""] = statusLine;
  if (major !== "1" || (minor !== "0" && minor !== "1")) {
    throw new HttpProtocolError(`the server answered HTTP/${major}.${minor}, not HTTP/1.0 or 1.1`);
  }
  const status = Number(code);
  if (status < 100 || status > 599) {
    throw new HttpProtocolError(`the status code ${code} is outside 100-599`);
  }
  const fields: [string, string][] = [];
  for (const [index, line] of lines.slice(1).entries()) {
    if (line === "") continue;
    // obs-fold: a continuation of the previous field's value (RFC 9112, section 5.2)
    if (/^[ \t]/.test(line) && fields.length > 0 && !/[\0]/.test(line)) {
      fields[fields.length - 1][1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name) || /[\0]/.test(value)) {
      throw new HttpProtocolError(
        `header line ${index + 1} is not \`Name: value\`: ${
          previewBytes(new TextEncoder().encode(line), 40)
        }`,
      );
    }
    fields.push([name, value]);
  }
  const headers = new Headers();
  for (const [name, value] of fields) headers.append(name, value.trim());
  return { version: `${major}.${minor}`, status, statusText: reason.trim(), headers };
}

/**
 * Reads the final response head, skipping interim (1xx) answers; throws an
 * {@link HttpProtocolError} for anything else than HTTP/1.x, for a head over
 * {@link MAX_HEAD_BYTES}, and for a connection that ends first. The peer's
 * first bytes are judged as soon as they come, so a server that talks first
 * (an SSH banner) is named at once rather than waited on.
 */
export async function readHead(reader: ByteReader): Promise<ResponseHead> {
  let headBytes = 0;
  while (true) {
    let end = headEnd(reader.buffered);
    while (end < 0) {
      if (!couldBeHttp(reader.buffered)) throw notHttp(reader.buffered);
      if (headBytes + reader.buffered.length > MAX_HEAD_BYTES) {
        throw new HttpProtocolError(`the response head is larger than ${MAX_HEAD_BYTES} bytes`);
      }
      if (!await reader.fill()) {
        throw new HttpProtocolError(
          reader.received === 0
            ? "the server closed the connection without answering"
            : `the connection closed in the middle of the response head (${
              previewBytes(reader.buffered)
            })`,
        );
      }
      end = headEnd(reader.buffered);
    }
    if (!couldBeHttp(reader.buffered)) throw notHttp(reader.buffered);
    headBytes += end;
    if (headBytes > MAX_HEAD_BYTES) {
      throw new HttpProtocolError(`the response head is larger than ${MAX_HEAD_BYTES} bytes`);
    }
    const head = parseHead(reader.take(end));
    if (head.status >= 200 || head.status === 101) return head;
  }
}
