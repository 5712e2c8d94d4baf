/**
 * Reads the message frames a server sends in answer to the StartupMessage,
 * before the driver sees them: pure, one chunk at a time, across any chunk
 * boundary. It decides what the driver cannot: that the peer is no
 * PostgreSQL server (postgres.js would wait for a length that never comes,
 * or print "Unknown Message" to the console), and that it asks for an
 * authentication method the driver cannot answer (postgres.js would print
 * "Unknown Auth" and wait forever). It also tells how far the startup got:
 * `handshake` until the server's first answer, `auth` from then on (the
 * authentication exchange and the session start), `ready` at
 * ReadyForQuery, after which nothing more is read.
 *
 * @module
 */

import { Failure } from "../../src/check.ts";
import { describeBytes } from "../common/bytes.ts";

/** How far the startup is. */
export type StartupStage = "handshake" | "auth" | "ready";

/** Message types a server may send first in answer to a StartupMessage. */
const FIRST_MESSAGE_TYPES = new Set([
  0x52, // R Authentication*
  0x45, // E ErrorResponse
  0x76, // v NegotiateProtocolVersion
]);

const AUTHENTICATION = 0x52; // R
const READY_FOR_QUERY = 0x5a; // Z

/** Authentication request codes postgres.js answers: ok, cleartext, MD5, SASL (start, continue, final). */
const SUPPORTED_AUTH = new Set([0, 3, 5, 10, 11, 12]);

/** Longest message a server sends during a startup (error texts, parameters). */
export const MAX_STARTUP_MESSAGE = 64 * 1024;

/** Frame header: type byte and int32 length; an Authentication message's request code follows it. */
const HEADER = 5;

function int32(bytes: number[], at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * The startup reader of one connection.
 *
 * @example
 * ```ts
 * import { StartupReader } from "./startup.ts";
 * const reader = new StartupReader();
 * // AuthenticationOk, then ReadyForQuery (idle)
 * console.assert(reader.push(new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 0])) === "auth");
 * console.assert(reader.push(new Uint8Array([0x5a, 0, 0, 0, 5, 0x49])) === "ready");
 * ```
 */
export class StartupReader {
  #stage: StartupStage = "handshake";
  /** Bytes of the current frame's header (and an Authentication code) read so far. */
  #head: number[] = [];
  /** Bytes of the current frame's body still to pass over. */
  #skip = 0;
  /** Set once the peer is judged: then nothing more is read. */
  #failure: Failure | undefined;

  /** How far the startup got. */
  get stage(): StartupStage {
    return this.#stage;
  }

  /**
   * Reads one chunk from the server: the stage reached after it, or a
   * {@link Failure} (`protocol`: not PostgreSQL; `auth`: an unsupported
   * method). After `ready` or a failure, chunks are not read any more.
   */
  push(chunk: Uint8Array): StartupStage | Failure {
    if (this.#failure) return this.#failure;
    let i = 0;
    while (i < chunk.length && this.#stage !== "ready") {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      this.#head.push(chunk[i++]);
      const verdict = this.#frame(chunk);
      if (verdict) return this.#failure = verdict;
    }
    return this.#stage;
  }

  /** Judges the frame whose head is being read, once enough of it is there. */
  #frame(chunk: Uint8Array): Failure | undefined {
    const head = this.#head;
    if (head.length < HEADER) return undefined;
    const type = head[0];
    if (head.length === HEADER) {
      if (this.#stage === "handshake") {
        if (!FIRST_MESSAGE_TYPES.has(type)) {
          return new Failure(
            "protocol",
            `not a PostgreSQL server: unexpected answer to the startup message (${
              describeBytes(chunk)
            })`,
          );
        }
        this.#stage = "auth";
      }
      const length = int32(head, 1);
      if (length < 4 || length > MAX_STARTUP_MESSAGE) {
        return new Failure(
          "protocol",
          `not a PostgreSQL server: a startup message of ${length} bytes (${describeBytes(chunk)})`,
        );
      }
      if (type === AUTHENTICATION && length >= 8) return undefined; // its request code comes next
      return this.#next(type, length - 4);
    }
    if (head.length < HEADER + 4) return undefined; // the rest of an Authentication code
    const code = int32(head, HEADER);
    if (!SUPPORTED_AUTH.has(code)) {
      return new Failure(
        "auth",
        `the server asks for an authentication method the check does not support (request code ${code}); use scram-sha-256, md5 or password`,
      );
    }
    return this.#next(type, int32(head, 1) - 8);
  }

  /** The frame is judged: pass over its remaining `rest` bytes. */
  #next(type: number, rest: number): undefined {
    this.#head = [];
    if (type === READY_FOR_QUERY) this.#stage = "ready"; // the rest is the driver's
    else this.#skip = rest;
    return undefined;
  }
}
