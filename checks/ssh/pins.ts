/**
 * Parsing of `SSH_HOST_KEY_SHA256`: a comma list of OpenSSH fingerprints.
 * Apart from hashing (`host_key.ts`), so that reading the configuration
 * loads no Node module.
 *
 * @module
 */

import { echo } from "../../src/config_values.ts";

const PIN = /^SHA256:([A-Za-z0-9+/]{43})=?$/i;

/**
 * Parses a comma list of `SHA256:…` fingerprints into their canonical form
 * (prefix `SHA256:`, no padding). Throws a readable Error for a bad entry.
 *
 * @example
 * ```ts
 * import { parsePins } from "./pins.ts";
 * const pin = `SHA256:${"x".repeat(43)}`;
 * console.assert(parsePins(`${pin}=, ${pin}`).join() === pin);
 * ```
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
