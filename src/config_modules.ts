/**
 * Per-module resolution: turns each enabled module's variables into its
 * scheduled units (one per target where the module says so), with the
 * interval, timeout and needs of each, and collects the module's secrets.
 * A bad value here never stops start-up: that unit becomes a config error.
 *
 * @module
 */

import type { CheckModule, EnvReader, InstanceSpec, Needs } from "./check.ts";
import { optionVariable } from "./check.ts";
import type { ConfigProblem } from "./config_agent.ts";
import { INTERVAL_BOUNDS, TIMEOUT_BOUNDS } from "./config_agent.ts";
import { ConfigValueError, seconds } from "./config_values.ts";
import type { NamedSecret } from "./redact.ts";

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

/** What resolving one module adds to the configuration. */
export interface ModuleResolution {
  units: CheckInstance[];
  secrets: NamedSecret[];
  warnings: ConfigWarning[];
}

/**
 * Resolves one enabled module configured through the environment: one
 * instance named after the module. Bad interval or timeout overrides are
 * fatal (added to `problems`), as agent-wide values are.
 */
export function resolveEnvModule(
  module: CheckModule<unknown>,
  env: EnvReader,
  defaults: { intervalMs: number; timeoutMs: number },
  problems: ConfigProblem[],
): ModuleResolution {
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
  const intervalMs = timing(`${prefix}_INTERVAL_SECONDS`, defaults.intervalMs, INTERVAL_BOUNDS);
  const timeoutMs = timing(`${prefix}_TIMEOUT_SECONDS`, defaults.timeoutMs, TIMEOUT_BOUNDS);
  const warnings: ConfigWarning[] = [];
  if (timeoutMs > intervalMs) {
    warnings.push({
      variable: `${prefix}_TIMEOUT_SECONDS`,
      message: `the ${module.name} timeout (${
        timeoutMs / 1000
      } s, CHECK_TIMEOUT_SECONDS or ${prefix}_TIMEOUT_SECONDS) is longer than its interval (${
        intervalMs / 1000
      } s, CHECK_INTERVAL_SECONDS or ${prefix}_INTERVAL_SECONDS): a run that takes that long makes the next one be skipped`,
    });
  }
  const secrets: NamedSecret[] = [];
  for (const variable of secretVariables(module)) {
    const value = env(variable);
    if (value) secrets.push({ name: variable, value });
    // Some drivers trim what they are given: the trimmed form is secret too.
    if (value && value.trim() !== value && value.trim() !== "") {
      secrets.push({ name: variable, value: value.trim() });
    }
  }
  const units = module.parse(env).map((spec) =>
    toUnit(module, module.name, spec, { intervalMs, timeoutMs, labels: {} }, secrets)
  );
  return { units, secrets, warnings };
}

/** A parsed unit with its instance's settings, its needs and its extra secrets. */
function toUnit(
  module: CheckModule<unknown>,
  instance: string,
  spec: InstanceSpec<unknown>,
  settings: { intervalMs: number; timeoutMs: number; labels: Labels },
  secrets: NamedSecret[],
): CheckInstance {
  const base: UnitBase = {
    module,
    instance,
    key: `${instance}:${spec.name}`,
    targets: spec.targets,
    ...settings,
  };
  if (!spec.ok) return { ...base, ok: false, error: spec.error };
  for (const value of module.secrets?.(spec.config) ?? []) {
    secrets.push({ name: `${module.name} credentials`, value });
  }
  return { ...base, ok: true, config: spec.config, needs: module.needs(spec.config) };
}
