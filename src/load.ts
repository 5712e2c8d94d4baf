/**
 * Loads the configuration with real I/O: env files from the working
 * directory, the process environment, the host name. Shared by the agent and
 * the launcher so both compute the same thing.
 *
 * @module
 */

import { MODULES } from "../checks/mod.ts";
import { resolveConfig, YAML_LIBRARY_ENV } from "./config.ts";
import type { ConfigProblem } from "./config_agent.ts";
import type { ConfigWarning } from "./config_modules.ts";
import type { AgentConfig } from "./config.ts";
import { loadEnv } from "./env_files.ts";
import { envTypos } from "./env_typos.ts";
import { pathKindSync, readRegularFileSync } from "./read_file.ts";

/** The configuration and the env files that apply to it. */
export type Loaded = {
  ok: true;
  config: AgentConfig;
  envFiles: string[];
  /** Typos among the process environment's names, which only a process that may list them sees. */
  processTypos: ConfigWarning[];
} | {
  ok: false;
  problems: ConfigProblem[];
};

/**
 * Reads `.env`, `.env.local` (or `AGENT_ENV_FILE`) and the environment.
 * `hostname` defaults to `Deno.hostname()`; the launcher passes its own
 * because it only computes flags and should not need `--allow-sys`.
 */
export async function loadAgentConfig(
  hostname: () => string = () => Deno.hostname(),
): Promise<Loaded> {
  // The YAML library prints every token it reads when these are set: never let it.
  for (const name of YAML_LIBRARY_ENV) {
    try {
      Deno.env.delete(name);
    } catch { /* not granted: then the library cannot read it either */ }
  }
  const env = loadEnv({
    processEnv: readProcessEnv,
    readTextFile: (path) => readRegularFileSync(path),
    cwd: Deno.cwd(),
  });
  if (!env.ok) return { ok: false, problems: [{ variable: env.variable, message: env.message }] };
  // The YAML library (and Deno's Node layer with it) is loaded only for a checks file.
  const parser = env.read("AGENT_CHECKS_FILE")?.trim()
    ? (await import("./checks_file.ts")).parseChecksFile
    : undefined;
  const result = resolveConfig(env.read, {
    modules: MODULES,
    hostname,
    pathKind: pathKindSync,
    readFile: (path) => readRegularFileSync(path),
    parseChecksFile: parser,
  });
  if (!result.ok) return result;
  // Typos of the env files: the agent sees these itself and logs them with its other warnings.
  result.config.warnings.push(...envTypos(env.fileNames, MODULES));
  const fileNames = new Set(env.fileNames);
  const processTypos = envTypos(processEnvNames().filter((n) => !fileNames.has(n)), MODULES);
  return { ok: true, config: result.config, envFiles: env.files, processTypos };
}

/**
 * One variable of the process environment. A name this process may not read
 * (a configuration that changed since its flags were computed) reads as
 * unset: the permission check at start then names what is missing.
 */
function readProcessEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
}

/** The names of the process environment, when this process may list them (the launcher may). */
function processEnvNames(): string[] {
  try {
    return Object.keys(Deno.env.toObject());
  } catch {
    return []; // the agent may read only its own variables: the launcher warned already
  }
}
