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

/** The first bytes as readable text for a message: printable ASCII kept, the rest escaped. */
export function previewBytes(bytes: Uint8Array, max = 48): string {
  let text = "";
  for (const byte of bytes.subarray(0, max)) {
    if (byte === 0x0d) text += "\\r";
    else if (byte === 0x0a) text += "\\n";
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return bytes.length > max ? `${text}…` : text;
}
