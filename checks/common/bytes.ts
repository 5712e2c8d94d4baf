/**
 * Quoting what a peer sent, for messages: readable text as a JSON string,
 * anything else as hex, always short.
 *
 * @module
 */

/** Bytes shown at most. */
export const PREVIEW_BYTES = 16;

/** True when every byte is printable ASCII (or CR / LF / tab). */
export function isPrintable(bytes: Uint8Array): boolean {
  return bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0d || b === 0x0a || b === 0x09);
}

/**
 * The first {@link PREVIEW_BYTES} bytes: `"SSH-2.0-OpenSSH_9"` when they are
 * text, `16 03 01 00 …` otherwise, with `…` when there was more.
 *
 * @example
 * ```ts
 * import { previewBytes } from "./bytes.ts";
 * console.assert(previewBytes(new TextEncoder().encode("HTTP/1.1 400")) === '"HTTP/1.1 400"');
 * console.assert(previewBytes(new Uint8Array([0, 255])) === "00 ff");
 * ```
 */
export function previewBytes(bytes: Uint8Array, max = PREVIEW_BYTES): string {
  const head = bytes.subarray(0, max);
  const shown = isPrintable(head)
    ? JSON.stringify(new TextDecoder().decode(head))
    : [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > head.length ? `${shown} …` : shown;
}

/** `N bytes: <preview>`, for "it answered …" messages. */
export function describeBytes(bytes: Uint8Array): string {
  return `${bytes.length} byte${bytes.length === 1 ? "" : "s"}: ${previewBytes(bytes)}`;
}
