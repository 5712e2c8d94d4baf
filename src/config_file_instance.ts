/**
 * An instance of the checks file, resolved through the module's one
 * `parse(env)`: a reader maps `POSTGRES_HOST` to the instance's `host` key,
 * and the module's messages are turned back into the file's words and
 * positions (`checks.yaml:9:11: port: must be a port …`).
 *
 * @module
 */

import type { EnvReader } from "./check.ts";
import type { FileInstance } from "./checks_file.ts";
import { INTERVAL_BOUNDS, TIMEOUT_BOUNDS } from "./config_agent.ts";
import {
  type InstanceResolution,
  type Labels,
  resolveInstance,
  type TimingDefaults,
} from "./config_modules.ts";
import { ConfigValueError, seconds } from "./config_values.ts";
import { type ReadFile, readSecret } from "./secret_files.ts";

/** An instance of the checks file. */
export function resolveFileInstance(
  file: FileInstance,
  timing: TimingDefaults,
  labels: Labels,
  readFile: ReadFile,
): InstanceResolution {
  const { module } = file;
  const prefix = `${module.name.toUpperCase()}_`;
  const keyOf = (variable: string) =>
    variable.startsWith(prefix) ? variable.slice(prefix.length).toLowerCase() : undefined;
  const problems = [...file.problems];
  const own = (
    value: { value: string; where: string } | undefined,
    bounds: typeof INTERVAL_BOUNDS,
    key: string,
    fallbackMs: number,
  ) => {
    if (!value) return fallbackMs;
    try {
      return seconds(() => value.value, key, fallbackMs / 1000, bounds);
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      problems.push(`${value.where}: ${key} ${error.reason}`);
      return fallbackMs;
    }
  };
  const ownTiming = {
    intervalMs: own(file.interval, INTERVAL_BOUNDS, "interval_seconds", timing.intervalMs),
    timeoutMs: own(file.timeout, TIMEOUT_BOUNDS, "timeout_seconds", timing.timeoutMs),
  };
  const env: EnvReader = (variable) => {
    const key = keyOf(variable);
    return key === undefined ? undefined : file.options.get(key)?.value;
  };
  // Module messages name variables (POSTGRES_PORT: …): say them in the file's words, at the
  // key's position when the message is about one key (a variable's name, or the key itself).
  const rename = (text: string) => {
    const lead = /^([A-Za-z][A-Za-z0-9_]*): /.exec(text)?.[1];
    const key = lead === undefined
      ? undefined
      : keyOf(lead) ?? (file.options.has(lead) ? lead : undefined);
    const located = key !== undefined
      ? `${file.options.get(key)?.where ?? file.where}: ${key}: ${text.slice(lead!.length + 2)}`
      : `${file.where}: ${text}`;
    return located.replace(
      new RegExp(`\\b${prefix}([A-Z0-9_]+)\\b`, "g"),
      (_, rest: string) => rest.toLowerCase(),
    );
  };
  return resolveInstance({
    module,
    name: file.name,
    env,
    secret: (variable) => {
      const key = keyOf(variable)!;
      return readSecret(
        file.options.get(key)?.value,
        file.options.get(`${key}_file`)?.value,
        { direct: key, file: `${key}_file` },
        readFile,
      );
    },
    timing: ownTiming,
    labels,
    problems,
    timingWords: {
      timeout: "timeout_seconds",
      interval: "interval_seconds",
      variable: `${file.where}: timeout_seconds`,
    },
    rename,
    fallbackTarget: file.name,
  });
}
