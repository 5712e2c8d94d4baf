/**
 * Secrets from files: every secret variable has a `_FILE` form
 * (`POSTGRES_PASSWORD_FILE`) and every secret option of the checks file a
 * `_file` form (`password_file`). The value is the file's content with one
 * trailing newline removed — how Docker secrets and systemd credentials
 * (`LoadCredential=`, `%d`) hand secrets over without the environment.
 *
 * @module
 */

import { unreadableWhy } from "./read_file.ts";

/** Reads a file's text; throws as `Deno.readTextFileSync` would. */
export type ReadFile = (path: string) => string;

/** The outcome of reading one secret. */
export type SecretRead =
  | { ok: true; value: string | undefined; file?: string }
  | { ok: false; message: string };

/** A secret file's content without its one trailing newline (`\n` or `\r\n`). */
export function secretFromFileText(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/**
 * Reads one secret given as a value or as a file. `names` say how the two
 * forms are written (`POSTGRES_PASSWORD` / `POSTGRES_PASSWORD_FILE`, or
 * `password` / `password_file`) for the messages, which never quote the
 * value.
 */
export function readSecret(
  direct: string | undefined,
  filePath: string | undefined,
  names: { direct: string; file: string },
  readFile: ReadFile,
): SecretRead {
  const path = filePath?.trim() || undefined;
  const value = direct === "" ? undefined : direct;
  if (value !== undefined && path !== undefined) {
    return {
      ok: false,
      message: `${names.direct} and ${names.file} are both set: use one of them`,
    };
  }
  if (path === undefined) return { ok: true, value };
  try {
    const content = secretFromFileText(readFile(path));
    if (content === "") return { ok: false, message: `${names.file}: the file ${path} is empty` };
    return { ok: true, value: content, file: path };
  } catch (error) {
    const why = unreadableWhy(error);
    return { ok: false, message: `${names.file}: cannot read ${path}: ${why}` };
  }
}
