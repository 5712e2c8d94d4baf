/**
 * Recognises the first bytes a MySQL / MariaDB server sends: a protocol-10
 * handshake packet or an error packet (e.g. "Too many connections"), with
 * sequence number 0. Anything else on the port is not a MySQL server.
 *
 * @module
 */

/** What the first bytes say so far. */
export type GreetingVerdict = "incomplete" | "mysql" | "other";

/** A MySQL greeting fits in far less; a larger length means text, not a packet header. */
const MAX_GREETING_LENGTH = 0x4000;

/** Judges the first bytes received on a fresh connection. */
export function inspectGreeting(bytes: Uint8Array): GreetingVerdict {
  if (bytes.length >= 4 && bytes[3] !== 0) return "other"; // sequence id of the first packet
  if (bytes.length >= 3) {
    const length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
    if (length === 0 || length > MAX_GREETING_LENGTH) return "other";
  }
  if (bytes.length < 5) return "incomplete";
  const length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
  const kind = bytes[4];
  if (kind === 0x0a && length >= 16) return "mysql"; // protocol 10 handshake
  if (kind === 0xff && length >= 3) return "mysql"; // error packet instead of a greeting
  return "other";
}

/** Enough bytes to judge the greeting and to quote it. */
const GREETING_BYTES_KEPT = 64;

/** The first bytes of a connection, kept to judge the greeting and to quote what answered. */
export class GreetingBytes {
  #kept = new Uint8Array(0);
  #verdict: GreetingVerdict = "incomplete";

  /** Adds a received chunk and returns the verdict so far. */
  add(chunk: Uint8Array): GreetingVerdict {
    if (this.#kept.length < GREETING_BYTES_KEPT) {
      const joined = new Uint8Array(this.#kept.length + chunk.length);
      joined.set(this.#kept);
      joined.set(chunk, this.#kept.length);
      this.#kept = joined.subarray(0, GREETING_BYTES_KEPT);
    }
    this.#verdict = inspectGreeting(this.#kept);
    return this.#verdict;
  }

  /** The verdict so far. */
  get verdict(): GreetingVerdict {
    return this.#verdict;
  }

  /** True while nothing has arrived. */
  get empty(): boolean {
    return this.#kept.length === 0;
  }

  /** The bytes kept (at most 64). */
  get bytes(): Uint8Array {
    return this.#kept;
  }
}
