/**
 * Per-instance resolution: turns one configured instance — the module's
 * environment variables, or an entry of the checks file — into its scheduled
 * units (one per target where the module says so), with the interval,
 * timeout, labels and needs of each, and collects its secrets. A bad value
 * here never stops start-up: that instance becomes a config error.
 *
 * Both sources go through the module's one `parse(env)`: a file instance is
 * read through a reader that maps `POSTGRES_HOST` to its `host` key, and its
 * messages are turned back into the file's words and positions.
 *
 * @module
 */

import type { CheckModule, EnvReader, InstanceSpec, Needs } from "./check.ts";
import { optionVariable } from "./check.ts";
import type { ConfigProblem } from "./config_agent.ts";
import { INTERVAL_BOUNDS, TIMEOUT_BOUNDS } from "./config_agent.ts";
import { ConfigValueError, seconds } from "./config_values.ts";
import type { NamedSecret } from "./redact.ts";
import { type ReadFile, readSecret } from "./secret_files.ts";

/** Labels of an instance: string keys and values, fixed when it is configured. */
export type Labels = Record<string, string>;

/** What every scheduled unit has, whether it can run or not. */
interface UnitBase {
  module: CheckModule<unknown>;
  /** The instance's name, as events carry it in `instance`. */
  instance: string;
  /** Unique in the agent: `instance:unit`. */
  key: string;
  targets: string[];
  labels: Labels;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * One scheduled unit of a configured instance: what one run reports on, and
 * either what it needs and runs with, or why it cannot run.
 */
export type CheckInstance =
  & UnitBase
  & ({ ok: true; config: unknown; needs: Needs } | { ok: false; error: string });

/** A problem that does not stop start-up but that the operator should hear about. */
export interface ConfigWarning {
  variable: string;
  message: string;
}

/** The variables one module may read: its options (and their `_FILE` forms) and its overrides. */
export function moduleEnvNames(module: CheckModule<unknown>): string[] {
  const names: string[] = [];
  for (const option of module.options) {
    const variable = optionVariable(module.name, option.name);
    names.push(variable);
    if (option.secret) names.push(`${variable}_FILE`);
  }
  const prefix = module.name.toUpperCase();
  return [...names, `${prefix}_INTERVAL_SECONDS`, `${prefix}_TIMEOUT_SECONDS`];
}

/** The variables of a module whose values are secrets. */
export function secretVariables(module: CheckModule<unknown>): string[] {
  return module.options.filter((o) => o.secret).map((o) => optionVariable(module.name, o.name));
}

/** What resolving one instance adds to the configuration. */
export interface InstanceResolution {
  units: CheckInstance[];
  secrets: NamedSecret[];
  /** Secret files it reads (for `--allow-read`). */
  files: string[];
  warnings: ConfigWarning[];
}

/** The intervals every instance falls back to. */
export interface TimingDefaults {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * The module's own interval and timeout overrides (`<MODULE>_INTERVAL_SECONDS`),
 * defaults for its instances from both sources. A bad override is fatal, as
 * agent-wide values are.
 */
export function moduleTiming(
  module: CheckModule<unknown>,
  env: EnvReader,
  defaults: TimingDefaults,
  problems: ConfigProblem[],
): TimingDefaults {
  const prefix = module.name.toUpperCase();
  const timing = (name: string, fallbackMs: number, bounds: typeof INTERVAL_BOUNDS) => {
    try {
      return seconds(env, name, fallbackMs / 1000, bounds);
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      problems.push({ variable: error.variable, message: error.reason });
      return fallbackMs;
    }
  };
  return {
    intervalMs: timing(`${prefix}_INTERVAL_SECONDS`, defaults.intervalMs, INTERVAL_BOUNDS),
    timeoutMs: timing(`${prefix}_TIMEOUT_SECONDS`, defaults.timeoutMs, TIMEOUT_BOUNDS),
  };
}

/** The environment-configured instance of a module, named after it. */
export function resolveEnvInstance(
  module: CheckModule<unknown>,
  env: EnvReader,
  timing: TimingDefaults,
  labels: Labels,
  readFile: ReadFile,
): InstanceResolution {
  const prefix = module.name.toUpperCase();
  const secretNames = (variable: string) => ({ direct: variable, file: `${variable}_FILE` });
  return resolveInstance({
    module,
    name: module.name,
    env,
    secret: (variable) =>
      readSecret(env(variable), env(`${variable}_FILE`), secretNames(variable), readFile),
    timing,
    labels,
    problems: [],
    timingWords: {
      timeout: `CHECK_TIMEOUT_SECONDS or ${prefix}_TIMEOUT_SECONDS`,
      interval: `CHECK_INTERVAL_SECONDS or ${prefix}_INTERVAL_SECONDS`,
      variable: `${prefix}_TIMEOUT_SECONDS`,
    },
    rename: (text) => text,
    fallbackTarget: undefined,
  });
}

/** Where one instance comes from, and how to say its problems in its own words. */
export interface InstanceSource {
  module: CheckModule<unknown>;
  name: string;
  env: EnvReader;
  secret: (variable: string) => ReturnType<typeof readSecret>;
  timing: TimingDefaults;
  labels: Labels;
  /** Problems already found in the instance: they make it one config error. */
  problems: string[];
  timingWords: { timeout: string; interval: string; variable: string };
  rename: (text: string) => string;
  /** The target a config-error instance reports on; undefined: what parse says. */
  fallbackTarget: string | undefined;
}

/** One instance from its source: secrets, timing warnings, then the module's units. */
export function resolveInstance(source: InstanceSource): InstanceResolution {
  const { module, name, timing, labels } = source;
  const warnings: ConfigWarning[] = [];
  if (timing.timeoutMs > timing.intervalMs) {
    warnings.push({
      variable: source.timingWords.variable,
      message: `the ${name} timeout (${
        timing.timeoutMs / 1000
      } s, ${source.timingWords.timeout}) is longer than its interval (${
        timing.intervalMs / 1000
      } s, ${source.timingWords.interval}): a run that takes that long makes the next one be skipped`,
    });
  }
  const secrets: NamedSecret[] = [];
  const files: string[] = [];
  const values = new Map<string, string>();
  const problems = [...source.problems];
  for (const variable of secretVariables(module)) {
    const read = source.secret(variable);
    if (!read.ok) {
      problems.push(source.rename(read.message));
      continue;
    }
    if (read.file) files.push(read.file);
    if (read.value === undefined) continue;
    values.set(variable, read.value);
    secrets.push({ name: variable, value: read.value });
    // Some drivers trim what they are given: the trimmed form is secret too.
    const trimmed = read.value.trim();
    if (trimmed !== read.value && trimmed !== "") secrets.push({ name: variable, value: trimmed });
  }
  const settings = { intervalMs: timing.intervalMs, timeoutMs: timing.timeoutMs, labels };
  if (problems.length > 0) {
    const target = source.fallbackTarget ?? name;
    const unit: CheckInstance = {
      module,
      instance: name,
      key: `${name}:${target}`,
      targets: [target],
      ...settings,
      ok: false,
      error: problems.join("; "),
    };
    return { units: [unit], secrets, files, warnings };
  }
  const env: EnvReader = (variable) =>
    values.has(variable) ? values.get(variable) : source.env(variable);
  const units = module.parse(env).map((spec) =>
    toUnit(module, name, spec, settings, secrets, source.rename)
  );
  return { units, secrets, files, warnings };
}

/** A parsed unit with its instance's settings, its needs and its extra secrets. */
function toUnit(
  module: CheckModule<unknown>,
  instance: string,
  spec: InstanceSpec<unknown>,
  settings: { intervalMs: number; timeoutMs: number; labels: Labels },
  secrets: NamedSecret[],
  rename: (text: string) => string,
): CheckInstance {
  const base: UnitBase = {
    module,
    instance,
    key: `${instance}:${spec.name}`,
    targets: spec.targets,
    ...settings,
  };
  if (!spec.ok) return { ...base, ok: false, error: rename(spec.error) };
  for (const value of module.secrets?.(spec.config) ?? []) {
    secrets.push({ name: `${module.name} credentials`, value });
  }
  return { ...base, ok: true, config: spec.config, needs: module.needs(spec.config) };
}
