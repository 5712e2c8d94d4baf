/**
 * Turns the environment and the checks file into one typed, resolved
 * configuration with defaults applied: the agent-wide settings
 * ({@link resolveAgentSettings}), every instance's units — one per module in
 * `ENABLED_MODULES` from the environment, and each entry of
 * `AGENT_CHECKS_FILE` ({@link parseChecksFile}) — and every secret to
 * redact. Agent-wide problems are fatal (exit code 2); a problem inside one
 * instance only turns that instance into a config error.
 *
 * @module
 */

import type { CheckModule, EnvReader } from "./check.ts";
import type { ChecksFile, parseChecksFile } from "./checks_file.ts";
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
  type InstanceResolution,
  moduleEnvNames,
  moduleTiming,
  resolveEnvInstance,
} from "./config_modules.ts";
import { resolveFileInstance } from "./config_file_instance.ts";
import { tlsFiles, tlsSecrets, transportWarnings } from "./config_tls.ts";
import { echo } from "./config_values.ts";
import { metricsNet } from "./metrics/config.ts";
import type { NamedSecret } from "./redact.ts";
import type { ReadFile } from "./secret_files.ts";
import { unreadableWhy } from "./read_file.ts";
import { didYouMean } from "./suggest.ts";

/** The resolved configuration. */
export interface AgentConfig extends Omit<AgentSettings, "agentIdRaw"> {
  agentId: string;
  /** True when AGENT_ID was not set and the host name is used. */
  agentIdFromHostname: boolean;
  /** Every scheduled unit of every instance. */
  checks: CheckInstance[];
  /** Every variable the agent reads: the `--allow-env` list. */
  envNames: string[];
  /** Files the configuration reads besides the env files: the checks file and secret files. */
  readFiles: string[];
  /**
   * `host:port` entries the agent process itself dials or listens on besides
   * the monitoring server (e.g. a metrics listener): added to `--allow-net`
   * in agent mode only.
   */
  agentNet: string[];
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
  /** Reads the checks file and secret files; default: none can be read. */
  readFile?: ReadFile;
  /**
   * The checks-file parser (src/checks_file.ts). Passed in, because it brings
   * the YAML library (and with it Deno's Node layer): the loader imports it
   * only when a checks file is configured.
   */
  parseChecksFile?: typeof parseChecksFile;
}

/**
 * Variables the YAML library reads on its own (its debug switches): granted
 * when a checks file is used, and removed from the process environment
 * before parsing, so that the library never prints the file's tokens.
 */
export const YAML_LIBRARY_ENV = ["LOG_TOKENS", "LOG_STREAM"];

const noFiles: ReadFile = (path) => {
  throw new Deno.errors.NotFound(path);
};

/**
 * Resolves the configuration. Never throws for bad input: fatal problems come
 * back as a list naming each variable or file position; instance problems
 * become config-error units.
 */
export function resolveConfig(env: EnvReader, options: ResolveOptions): ConfigResult {
  const readFile = options.readFile ?? noFiles;
  const problems: ConfigProblem[] = [];
  const settings = resolveAgentSettings(env, problems, { pathKind: options.pathKind, readFile });
  const known = [...options.modules.keys()];
  for (const name of settings.enabledModules) {
    if (!options.modules.has(name)) {
      problems.push({
        variable: "ENABLED_MODULES",
        message: `unknown module ${echo(name)}${didYouMean(name, known)} (available: ${
          known.join(", ")
        })`,
      });
    }
  }
  const file = settings.checksFile
    ? readChecksFile(settings.checksFile, options, problems)
    : undefined;

  const envNames = new Set<string>(AGENT_ENV);
  const readFiles: string[] = settings.checksFile ? [settings.checksFile] : [];
  if (settings.monitoringTokenFile) readFiles.push(settings.monitoringTokenFile);
  const remoteWrite = settings.metrics.remoteWrite;
  if (remoteWrite?.tokenFile) readFiles.push(remoteWrite.tokenFile);
  readFiles.push(...tlsFiles(settings.monitoringTls));
  if (file) YAML_LIBRARY_ENV.forEach((n) => envNames.add(n));
  const secrets: NamedSecret[] = settings.monitoringToken
    ? [{ name: "MONITORING_TOKEN", value: settings.monitoringToken }]
    : [];
  if (remoteWrite?.token) secrets.push({ name: "REMOTE_WRITE_TOKEN", value: remoteWrite.token });
  secrets.push(...tlsSecrets(settings.monitoringTls));
  const checks: CheckInstance[] = [];
  const { monitoringUrl, monitoringToken, monitoringTls } = settings;
  const warnings: ConfigWarning[] = transportWarnings(
    monitoringUrl,
    monitoringToken,
    monitoringTls,
  );
  const seen = new Map<string, string>();
  const add = (resolution: InstanceResolution, name: string, where: string) => {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      problems.push({
        variable: where,
        message: `the instance name ${
          echo(name)
        } is used twice (first by ${earlier}): give each instance its own name`,
      });
      return;
    }
    seen.set(name, where);
    checks.push(...resolution.units);
    secrets.push(...resolution.secrets);
    readFiles.push(...resolution.files);
    warnings.push(...resolution.warnings);
  };
  const defaults = { intervalMs: settings.checkIntervalMs, timeoutMs: settings.checkTimeoutMs };
  const labels = file?.labels ?? {};
  for (const name of settings.enabledModules) {
    const module = options.modules.get(name);
    if (!module) continue;
    moduleEnvNames(module).forEach((n) => envNames.add(n));
    const timing = moduleTiming(module, env, defaults, problems);
    add(resolveEnvInstance(module, env, timing, labels, readFile), name, "ENABLED_MODULES");
  }
  for (const instance of file?.instances ?? []) {
    const { module } = instance;
    moduleEnvNames(module).forEach((n) => envNames.add(n));
    const timing = moduleTiming(module, env, defaults, problems);
    const merged = { ...labels, ...instance.labels };
    add(resolveFileInstance(instance, timing, merged, readFile), instance.name, instance.where);
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
      readFiles: [...new Set(readFiles)],
      agentNet: metricsNet(settings.metrics),
      secrets: secrets.filter((s) => s.value !== ""),
      warnings,
    },
  };
}

/** The checks file, parsed; its agent-wide problems join `problems`. */
function readChecksFile(
  path: string,
  options: ResolveOptions,
  problems: ConfigProblem[],
): ChecksFile | undefined {
  let text: string;
  try {
    text = (options.readFile ?? noFiles)(path);
  } catch (error) {
    const why = unreadableWhy(error);
    problems.push({ variable: "AGENT_CHECKS_FILE", message: `cannot read ${path}: ${why}` });
    return undefined;
  }
  if (!options.parseChecksFile) {
    problems.push({ variable: "AGENT_CHECKS_FILE", message: "internal: no checks-file parser" });
    return undefined;
  }
  const file = options.parseChecksFile(path, text, options.modules);
  // Each message starts with its file:line:col, which says more than a variable's name.
  for (const message of file.problems) problems.push({ variable: "", message });
  return file;
}

/** One line per problem, for the start-up error report. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `config error: ${p.variable ? `${p.variable}: ` : ""}${p.message}`)
    .join("\n");
}
