/**
 * Where configuration comes from: the process environment over `.env.local`
 * over `.env`, or `AGENT_ENV_FILE` in place of the two files.
 *
 * @module
 */

import { parseDotenv as parse } from "./dotenv.ts";
import type { EnvReader } from "./check.ts";
import { unreadableWhy } from "./read_file.ts";

/** I/O the loader needs; passed in so tests can use plain maps. */
export interface EnvSources {
  /** Reads one variable of the process environment. */
  processEnv: (name: string) => string | undefined;
  /** Reads a whole file; throws `Deno.errors.NotFound` when it is missing. */
  readTextFile: (path: string) => string;
  /** Directory in which `.env` and `.env.local` are looked for. */
  cwd: string;
}

/** The env files that apply: `AGENT_ENV_FILE` alone, or `.env` and `.env.local`. */
export function envFilePaths(sources: Pick<EnvSources, "processEnv" | "cwd">): {
  paths: string[];
  explicit: boolean;
} {
  const explicit = sources.processEnv("AGENT_ENV_FILE");
  if (explicit) return { paths: [explicit], explicit: true };
  const dir = sources.cwd.endsWith("/") ? sources.cwd : sources.cwd + "/";
  return { paths: [dir + ".env", dir + ".env.local"], explicit: false };
}

/** The merged reader, or the error that stops start-up. */
export type LoadedEnv =
  | {
    ok: true;
    read: EnvReader;
    files: string[];
    filesRead: string[];
    /** The variable names the env files set (for the typo warnings). */
    fileNames: string[];
  }
  | { ok: false; variable: string; message: string };

/**
 * Reads the env files and returns a reader that prefers the process
 * environment. A missing `.env`/`.env.local` is fine; a missing or unreadable
 * `AGENT_ENV_FILE` is an error, and so is a file the agent may not read.
 */
export function loadEnv(sources: EnvSources): LoadedEnv {
  const { paths, explicit } = envFilePaths(sources);
  const merged: Record<string, string> = {};
  const filesRead: string[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = sources.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && !explicit) continue;
      const why = unreadableWhy(error);
      return {
        ok: false,
        variable: explicit ? "AGENT_ENV_FILE" : path,
        message: `cannot read env file ${path}: ${why}`,
      };
    }
    Object.assign(merged, parse(text));
    filesRead.push(path);
  }
  const read: EnvReader = (name) => {
    const fromProcess = sources.processEnv(name);
    return fromProcess !== undefined ? fromProcess : merged[name];
  };
  return { ok: true, read, files: paths, filesRead, fileNames: Object.keys(merged) };
}
