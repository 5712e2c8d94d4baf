/**
 * Reading the files a configuration names (env files, later the checks file
 * and secret files) safely: only regular files, at most a size cap, so that
 * a FIFO cannot hang start-up and `/dev/zero` cannot fill the memory.
 *
 * @module
 */

import type { PathKind } from "./config_agent.ts";

/** The largest configuration file read: far above any real one. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** A file that is not a readable regular file of reasonable size. */
export class FileShapeError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = "FileShapeError";
  }
}

/**
 * Reads a regular file as UTF-8 text. Throws `Deno.errors.NotFound` (and the
 * other `Deno.errors`) as `Deno.statSync` does, or {@link FileShapeError}
 * for a directory, a device, a FIFO or a file above `maxBytes`.
 */
export function readRegularFileSync(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): string {
  const info = Deno.statSync(path);
  if (info.isDirectory) throw new FileShapeError("it is a directory");
  if (!info.isFile) throw new FileShapeError("it is not a regular file (a device, FIFO or socket)");
  if (info.size > maxBytes) {
    throw new FileShapeError(`it is larger than ${maxBytes} bytes (${info.size} bytes)`);
  }
  const file = Deno.openSync(path, { read: true });
  try {
    // The size can change between stat and read: never read past the cap.
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = file.readSync(buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length > maxBytes) throw new FileShapeError(`it is larger than ${maxBytes} bytes`);
    return new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    file.close();
  }
}

/** Why a file could not be read, in a few words for a configuration message. */
export function unreadableWhy(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return "not allowed to read it";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof FileShapeError) return error.why;
  return (error as Error).message;
}

/** What `path` names, for config checks; `unknown` when this process may not look. */
export function pathKindSync(path: string): PathKind {
  try {
    const info = Deno.statSync(path);
    return info.isFile ? "file" : info.isDirectory ? "directory" : "other";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    if (error instanceof Deno.errors.NotADirectory) return "missing";
    return "unknown";
  }
}
