/**
 * Reads and decrypts the private key of `SSH_KEY_PATH`. The file's contents
 * are secret: no message here quotes them, nor ssh2's parse errors (which may
 * carry pieces of the key); each failure gets a sentence of our own.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/ssh2"
import { type ParsedKey, utils } from "ssh2";
import { Failure, type Reason } from "../../src/check.ts";

/** Larger files are not private keys (and `/dev/zero` would never end). */
const MAX_KEY_BYTES = 256 * 1024;

/** Where the decrypted key is kept between runs (the scheduler's per-instance memory). */
const MEMORY_KEY = "ssh.private_key";

interface CachedKey {
  bytes: Uint8Array;
  key: ParsedKey;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A key that cannot be used: the run ends in phase `key`, before any connection. */
function keyFailure(reason: Reason, message: string): Failure {
  return new Failure(reason, message, { phase: "key" });
}

function readFailure(path: string, error: unknown): Failure {
  const where = `SSH_KEY_PATH ${JSON.stringify(path)}`;
  if (error instanceof Deno.errors.NotCapable) {
    return keyFailure("permission", `the agent lacks --allow-read=${path}`);
  }
  if (error instanceof Deno.errors.NotFound) {
    return keyFailure("config", `${where} does not exist`);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return keyFailure(
      "config",
      `${where} cannot be read by the agent's OS user (permission denied)`,
    );
  }
  const name = error instanceof Error ? error.name : "error";
  return keyFailure("config", `${where} cannot be read (${name})`);
}

/** A sentence for a key ssh2 could not parse; ssh2's own text is never passed on. */
function parseFailure(path: string, parserMessage: string, hasPassphrase: boolean): string {
  const where = `SSH_KEY_PATH ${JSON.stringify(path)}`;
  if (/no passphrase given/i.test(parserMessage)) {
    return `${where} is encrypted and SSH_KEY_PASSPHRASE is not set`;
  }
  if (hasPassphrase && /passphrase|integrity check|decrypt/i.test(parserMessage)) {
    return `${where} cannot be decrypted with SSH_KEY_PASSPHRASE (wrong passphrase?)`;
  }
  if (/unsupported (cipher|kdf)/i.test(parserMessage)) {
    return `${where} is encrypted with a cipher or KDF the agent does not support`;
  }
  if (/unsupported key format/i.test(parserMessage)) {
    return `${where} is not a private key in a known format (OpenSSH, PEM or PuTTY)`;
  }
  return `${where} cannot be parsed as a private key`;
}

/**
 * Loads the key at `path`; a key that cannot be used throws a
 * {@link Failure} (phase `key`). The decrypted key is kept in `memory` and
 * reused while the file's bytes stay the same, so the (blocking, ~0.2 s)
 * bcrypt decryption of an encrypted OpenSSH key runs once, not every interval.
 */
export async function loadPrivateKey(
  path: string,
  passphrase: string | undefined,
  memory: Map<string, unknown>,
  signal: AbortSignal,
): Promise<ParsedKey> {
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw keyFailure("config", `SSH_KEY_PATH ${JSON.stringify(path)} is not a regular file`);
    }
    if (info.size > MAX_KEY_BYTES) {
      throw keyFailure(
        "config",
        `SSH_KEY_PATH ${JSON.stringify(path)} is too large to be a private key`,
      );
    }
    bytes = await Deno.readFile(path, { signal });
  } catch (error) {
    if (error instanceof Failure) throw error;
    if (signal.aborted) throw keyFailure("timeout", "timed out reading SSH_KEY_PATH");
    throw readFailure(path, error);
  }

  const cached = memory.get(MEMORY_KEY) as CachedKey | undefined;
  if (cached && sameBytes(cached.bytes, bytes)) return cached.key;
  memory.delete(MEMORY_KEY);

  let parsed: ReturnType<typeof utils.parseKey>;
  try {
    parsed = utils.parseKey(Buffer.from(bytes), passphrase);
  } catch (error) {
    const text = error instanceof Error ? error.message : "";
    throw keyFailure("config", parseFailure(path, text, !!passphrase));
  }
  if (parsed instanceof Error) {
    throw keyFailure("config", parseFailure(path, parsed.message, !!passphrase));
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) {
    throw keyFailure(
      "config",
      `SSH_KEY_PATH ${
        JSON.stringify(path)
      } holds a public key, not a private key (use the file without .pub)`,
    );
  }
  memory.set(MEMORY_KEY, { bytes, key } satisfies CachedKey);
  return key;
}
