/**
 * Turns the environment into one typed, resolved configuration with defaults
 * applied: the agent-wide settings ({@link resolveAgentSettings}), each
 * enabled module's units ({@link resolveEnvModule}) and every secret to
 * redact. Agent-wide problems are fatal (exit code 2); a problem inside one
 * module only turns that module's units into config errors.
 *
 * @module
 */

import type { CheckModule, EnvReader } from "./check.ts";
import {
  AGENT_ENV,
  type AgentSettings,
  type ConfigProblem,
  type PathProbe,
  resolveAgentSettings,
} from "./config_agent.ts";
import {
  type CheckInstance,
  type ConfigWarning,
  moduleEnvNames,
  resolveEnvModule,
} from "./config_modules.ts";
import { echo } from "./config_values.ts";
import type { NamedSecret } from "./redact.ts";

/** The resolved configuration. */
export interface AgentConfig extends Omit<AgentSettings, "agentIdRaw"> {
  agentId: string;
  /** True when AGENT_ID was not set and the host name is used. */
  agentIdFromHostname: boolean;
  /** Every scheduled unit of every enabled module. */
  checks: CheckInstance[];
  /** Every variable the agent reads: the `--allow-env` list. */
  envNames: string[];
  /** Every secret value to redact from logs and events, with where it came from. */
  secrets: NamedSecret[];
  /** What the agent logs at start (and `validate` prints): valid, but likely a mistake. */
  warnings: ConfigWarning[];
}

export type ConfigResult = { ok: true; config: AgentConfig } | {
  ok: false;
  problems: ConfigProblem[];
};

/** What {@link resolveConfig} needs besides the variables. */
export interface ResolveOptions {
  modules: ReadonlyMap<string, CheckModule<unknown>>;
  /** The host name, asked only when AGENT_ID is unset. */
  hostname: () => string;
  /**
   * Looks paths up on disk (e.g. that `AGENT_STATUS_FILE`'s directory exists).
   * Without it, paths are checked only for their form.
   */
  pathKind?: PathProbe;
}

/**
 * Resolves the configuration. Never throws for bad input: fatal problems come
 * back as a list naming each variable; module problems become config-error
 * units.
 */
export function resolveConfig(env: EnvReader, options: ResolveOptions): ConfigResult {
  const problems: ConfigProblem[] = [];
  const settings = resolveAgentSettings(env, problems, options.pathKind);
  const known = [...options.modules.keys()].join(", ");
  for (const name of settings.enabledModules) {
    if (!options.modules.has(name)) {
      problems.push({
        variable: "ENABLED_MODULES",
        message: `unknown module ${echo(name)} (available: ${known})`,
      });
    }
  }

  const envNames = new Set<string>(AGENT_ENV);
  const secrets: NamedSecret[] = settings.monitoringToken
    ? [{ name: "MONITORING_TOKEN", value: settings.monitoringToken }]
    : [];
  const checks: CheckInstance[] = [];
  const warnings: ConfigWarning[] = [];
  for (const name of settings.enabledModules) {
    const module = options.modules.get(name);
    if (!module) continue;
    moduleEnvNames(module).forEach((n) => envNames.add(n));
    const resolved = resolveEnvModule(module, env, {
      intervalMs: settings.checkIntervalMs,
      timeoutMs: settings.checkTimeoutMs,
    }, problems);
    checks.push(...resolved.units);
    secrets.push(...resolved.secrets);
    warnings.push(...resolved.warnings);
  }
  if (problems.length > 0) return { ok: false, problems };

  const { agentIdRaw, ...rest } = settings;
  let agentId = agentIdRaw;
  if (agentId === undefined) {
    try {
      agentId = options.hostname();
    } catch (error) {
      return {
        ok: false,
        problems: [{
          variable: "AGENT_ID",
          message: `is unset and the host name cannot be read: ${(error as Error).message}`,
        }],
      };
    }
  }
  return {
    ok: true,
    config: {
      ...rest,
      agentId,
      agentIdFromHostname: agentIdRaw === undefined,
      checks,
      envNames: [...envNames],
      secrets: secrets.filter((s) => s.value !== ""),
      warnings,
    },
  };
}

/** One line per problem, for the start-up error report. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `config error: ${p.variable}: ${p.message}`).join("\n");
}
