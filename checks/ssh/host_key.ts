/**
 * Host keys in OpenSSH's terms: the `SHA256:…` fingerprint `ssh-keygen -lf`
 * prints and the key type inside the blob. (Parsing the pins is `pins.ts`.)
 *
 * @module
 */

import { createHash } from "node:crypto";

/** A host key as the server presented it. */
export interface HostKeyInfo {
  /** The key type named inside the blob, e.g. `ssh-ed25519`, `ssh-rsa`. */
  type: string;
  /** `SHA256:` + unpadded base64 of the SHA-256 of the blob, as `ssh-keygen -lf` prints it. */
  sha256: string;
}

/**
 * Fingerprint and type of a public key blob (SSH wire format). Synchronous
 * (`node:crypto`, not `crypto.subtle`) because ssh2's host verifier is.
 */
export function describeHostKey(blob: Uint8Array): HostKeyInfo {
  const digest = createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
  let type = "unknown";
  if (blob.length >= 4) {
    const length = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0);
    if (length > 0 && length <= 64 && 4 + length <= blob.length) {
      const name = new TextDecoder("latin1").decode(blob.subarray(4, 4 + length));
      if (/^[\x21-\x7e]+$/.test(name)) type = name;
    }
  }
  return { type, sha256: `SHA256:${digest}` };
}
