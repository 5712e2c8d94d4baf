/**
 * Host keys in OpenSSH's terms: the `SHA256:…` fingerprint `ssh-keygen -lf`
 * prints, the key type inside the blob, and parsing of the pin variable.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { echo } from "../../src/config_values.ts";

/** A host key as the server presented it. */
export interface HostKeyInfo {
  /** The key type named inside the blob, e.g. `ssh-ed25519`, `ssh-rsa`. */
  type: string;
  /** `SHA256:` + unpadded base64 of the SHA-256 of the blob, as `ssh-keygen -lf` prints it. */
  sha256: string;
}

/** Fingerprint and type of a public key blob (SSH wire format). */
export function describeHostKey(blob: Uint8Array): HostKeyInfo {
  const digest = createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
  let type = "unknown";
  if (blob.length >= 4) {
    const length = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0);
    if (length > 0 && length <= 64 && 4 + length <= blob.length) {
      const name = Buffer.from(blob.subarray(4, 4 + length)).toString("latin1");
      if (/^[\x21-\x7e]+$/.test(name)) type = name;
    }
  }
  return { type, sha256: `SHA256:${digest}` };
}

const PIN = /^SHA256:([A-Za-z0-9+/]{43})=?$/i;

/**
 * Parses a comma list of `SHA256:…` fingerprints into their canonical form
 * (prefix `SHA256:`, no padding). Throws a readable Error for a bad entry.
 */
export function parsePins(text: string): string[] {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return [
    ...new Set(entries.map((entry) => {
      const match = PIN.exec(entry);
      if (!match) {
        throw new Error(
          `${
            echo(entry)
          } is not an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters, as ssh-keygen -lf prints it)`,
        );
      }
      return `SHA256:${match[1]}`;
    })),
  ];
}
