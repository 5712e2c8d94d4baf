/**
 * Turns the environment into one typed, resolved configuration with defaults
 * applied. Agent-wide problems are fatal (exit code 2); a problem inside one
 * module only turns that module's instances into config errors.
 *
 * @module
 */

import type { CheckModule, EnvReader, Needs } from "./check.ts";
import type { NamedSecret } from "./redact.ts";
import {
  ConfigValueError,
  describeUrl,
  echo,
  integer,
  list,
  oneOf,
  optional,
  parseHost,
  seconds,
} from "./config_values.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { OVERFLOW_POLICIES, type OverflowPolicy } from "./queue.ts";

/** Variables every agent reads, whatever modules are enabled. */
export const AGENT_ENV = [
  "AGENT_ENV_FILE",
  "AGENT_ID",
  "MONITORING_URL",
  "MONITORING_TOKEN",
  "ENABLED_MODULES",
  "CHECK_INTERVAL_SECONDS",
  "CHECK_TIMEOUT_SECONDS",
  "CHECK_CONCURRENCY",
  "HEARTBEAT_INTERVAL_SECONDS",
  "QUEUE_MAX_EVENTS",
  "QUEUE_OVERFLOW",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "SHUTDOWN_FLUSH_SECONDS",
  "MONITORING_CONNECT_TIMEOUT_SECONDS",
  "AGENT_STATUS_FILE",
] as const;

/** Agent-wide variables whose values are secrets. */
export const AGENT_SECRET_ENV = ["MONITORING_TOKEN"] as const;

/** One instance of a module, resolved: what to run, how often, how long at most. */
export interface CheckInstance {
  module: CheckModule<unknown>;
  /** Unique in the agent: `module:name`. */
  key: string;
  targets: string[];
  /** Parsed module configuration; absent when {@link configError} is set. */
  config?: unknown;
  /** Why this instance cannot run (reported as `reason: "config"`). */
  configError?: string;
  intervalMs: number;
  timeoutMs: number;
  /** What it needs from Deno (empty for a config error). */
  needs: Needs;
}

/** The resolved configuration. */
export interface AgentConfig {
  agentId: string;
  /** True when AGENT_ID was not set and the host name is used. */
  agentIdFromHostname: boolean;
  monitoringUrl: URL;
  monitoringToken?: string;
  enabledModules: string[];
  checkIntervalMs: number;
  checkTimeoutMs: number;
  checkConcurrency: number;
  heartbeatIntervalMs: number;
  queueMaxEvents: number;
  queueOverflow: OverflowPolicy;
  logLevel: LogLevel;
  logFormat: LogFormat;
  shutdownFlushMs: number;
  /** Extension: a file the agent rewrites every few seconds with its state (for health checks). */
  statusFile?: string;
  monitoringConnectTimeoutMs: number;
  checks: CheckInstance[];
  /** Every variable the agent reads: the `--allow-env` list. */
  envNames: string[];
  /** Every secret value to redact from logs and events, with where it came from. */
  secrets: NamedSecret[];
}

/** A fatal configuration problem. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export type ConfigResult = { ok: true; config: AgentConfig } | {
  ok: false;
  problems: ConfigProblem[];
};

/**
 * The largest `QUEUE_MAX_EVENTS`. A queued event costs about 0.5–1.8 KB of
 * memory (550 bytes of heap for a 480-byte PostgreSQL event, up to 1.8 KB of
 * RSS with the garbage collector's headroom), so a million events may take
 * up to ~1.8 GB; the default of 10,000 takes 5–18 MB.
 */
export const QUEUE_MAX_EVENTS_LIMIT = 1_000_000;

/** What a path names on disk; `unknown` when the process may not look. */
export type PathKind = "file" | "directory" | "other" | "missing" | "unknown";

/** Looks a path up on disk (`Deno.statSync`); injectable so that config stays testable. */
export type PathProbe = (path: string) => PathKind;

/** What {@link resolveConfig} needs besides the variables. */
export interface ResolveOptions {
  /**
   * Looks paths up on disk (e.g. that `AGENT_STATUS_FILE`'s directory exists).
   * Without it, paths are checked only for their form.
   */
  pathKind?: PathProbe;
  modules: ReadonlyMap<string, CheckModule<unknown>>;
  /** Names reserved for modules this version does not have yet. */
  plannedModules?: readonly string[];
  /** The host name, asked only when AGENT_ID is unset. */
  hostname: () => string;
}

/** The variables one module may read: its own and its interval/timeout overrides. */
export function moduleEnvNames(module: CheckModule<unknown>): string[] {
  const prefix = module.name.toUpperCase();
  return [...module.env, `${prefix}_INTERVAL_SECONDS`, `${prefix}_TIMEOUT_SECONDS`];
}

const INTERVAL_BOUNDS = { min: 0.1, max: 86_400 };
const TIMEOUT_BOUNDS = { min: 0.1, max: 3_600 };

/**
 * Resolves the configuration. Never throws for bad input: fatal problems come
 * back as a list naming each variable; module problems become config-error
 * instances.
 */
export function resolveConfig(env: EnvReader, options: ResolveOptions): ConfigResult {
  const problems: ConfigProblem[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      problems.push({ variable: error.variable, message: error.reason });
      return fallback;
    }
  };

  const monitoringUrl = attempt(
    () => parseMonitoringUrl(optional(env, "MONITORING_URL")),
    new URL("ws://localhost:8765"),
  );
  const monitoringToken = optional(env, "MONITORING_TOKEN");
  const checkIntervalMs = attempt(
    () => seconds(env, "CHECK_INTERVAL_SECONDS", 30, INTERVAL_BOUNDS),
    30_000,
  );
  const checkTimeoutMs = attempt(
    () => seconds(env, "CHECK_TIMEOUT_SECONDS", 5, TIMEOUT_BOUNDS),
    5_000,
  );
  const checkConcurrency = attempt(() => integer(env, "CHECK_CONCURRENCY", 64, 1, 10_000), 64);
  const heartbeatIntervalMs = attempt(
    () => seconds(env, "HEARTBEAT_INTERVAL_SECONDS", 15, { ...INTERVAL_BOUNDS, allowZero: true }),
    15_000,
  );
  const queueMaxEvents = attempt(
    () => integer(env, "QUEUE_MAX_EVENTS", 10_000, 1, QUEUE_MAX_EVENTS_LIMIT),
    10_000,
  );
  const queueOverflow = attempt(
    () => oneOf(env, "QUEUE_OVERFLOW", OVERFLOW_POLICIES, "drop-oldest"),
    "drop-oldest",
  );
  const logLevel = attempt(() => oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"), "info");
  const logFormat = attempt(() => oneOf(env, "LOG_FORMAT", LOG_FORMATS, "pretty"), "pretty");
  const shutdownFlushMs = attempt(
    () => seconds(env, "SHUTDOWN_FLUSH_SECONDS", 5, { min: 0, max: 300, allowZero: true }),
    5_000,
  );
  const monitoringConnectTimeoutMs = attempt(
    () => seconds(env, "MONITORING_CONNECT_TIMEOUT_SECONDS", 10, { min: 0.1, max: 300 }),
    10_000,
  );
  const statusFile = optional(env, "AGENT_STATUS_FILE");
  if (statusFile !== undefined) {
    const why = statusFileProblem(statusFile, options.pathKind);
    if (why) problems.push({ variable: "AGENT_STATUS_FILE", message: why });
  }
  const agentIdRaw = optional(env, "AGENT_ID");
  if (
    agentIdRaw !== undefined &&
    (agentIdRaw.length > 256 || [...agentIdRaw].some((c) => c.charCodeAt(0) < 0x20))
  ) {
    problems.push({ variable: "AGENT_ID", message: "must be at most 256 printable characters" });
  }

  const enabledModules = [
    ...new Set(list(env, "ENABLED_MODULES").map((name) => name.toLowerCase())),
  ];
  for (const name of enabledModules) {
    if (options.modules.has(name)) continue;
    const known = [...options.modules.keys()].join(", ");
    problems.push({
      variable: "ENABLED_MODULES",
      message: options.plannedModules?.includes(name)
        ? `module ${echo(name)} is not available in this version (available: ${known})`
        : `unknown module ${echo(name)} (available: ${known})`,
    });
  }

  const envNames = new Set<string>(AGENT_ENV);
  const secrets: NamedSecret[] = monitoringToken
    ? [{ name: "MONITORING_TOKEN", value: monitoringToken }]
    : [];
  const checks: CheckInstance[] = [];
  for (const name of enabledModules) {
    const module = options.modules.get(name);
    if (!module) continue;
    moduleEnvNames(module).forEach((n) => envNames.add(n));
    const prefix = module.name.toUpperCase();
    const intervalMs = attempt(
      () => seconds(env, `${prefix}_INTERVAL_SECONDS`, checkIntervalMs / 1000, INTERVAL_BOUNDS),
      checkIntervalMs,
    );
    const timeoutMs = attempt(
      () => seconds(env, `${prefix}_TIMEOUT_SECONDS`, checkTimeoutMs / 1000, TIMEOUT_BOUNDS),
      checkTimeoutMs,
    );
    for (const secretName of module.secretEnv) {
      const value = env(secretName);
      if (value) secrets.push({ name: secretName, value });
      // Some drivers trim what they are given: the trimmed form is secret too.
      if (value && value.trim() !== value && value.trim() !== "") {
        secrets.push({ name: secretName, value: value.trim() });
      }
    }
    for (const spec of module.parse(env)) {
      const needs = spec.config !== undefined && spec.configError === undefined
        ? module.needs(spec.config)
        : {};
      if (spec.config !== undefined && module.secrets) {
        for (const value of module.secrets(spec.config)) {
          secrets.push({ name: `${module.name} credentials`, value });
        }
      }
      checks.push({
        module,
        key: `${module.name}:${spec.name}`,
        targets: spec.targets,
        config: spec.config,
        configError: spec.configError,
        intervalMs,
        timeoutMs,
        needs,
      });
    }
  }

  if (problems.length > 0) return { ok: false, problems };
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
      agentId,
      agentIdFromHostname: agentIdRaw === undefined,
      monitoringUrl,
      monitoringToken,
      enabledModules,
      checkIntervalMs,
      checkTimeoutMs,
      checkConcurrency,
      heartbeatIntervalMs,
      queueMaxEvents,
      queueOverflow,
      logLevel,
      logFormat,
      shutdownFlushMs,
      statusFile,
      monitoringConnectTimeoutMs,
      checks,
      envNames: [...envNames],
      secrets: secrets.filter((s) => s.value !== ""),
    },
  };
}

/** Why `path` cannot be the status file, or undefined when it can. */
function statusFileProblem(path: string, pathKind?: PathProbe): string | undefined {
  if (!path.startsWith("/")) return `must be an absolute path, got ${echo(path)}`;
  if (path.endsWith("/") || /\/\.{1,2}$/.test(path)) {
    return `must name a file, not a directory, got ${echo(path)}`;
  }
  if (!pathKind) return undefined;
  const kind = pathKind(path);
  if (kind === "directory") return `${echo(path)} is a directory: name a file inside it`;
  if (kind === "other") return `${echo(path)} is not a regular file`;
  const parent = path.slice(0, path.lastIndexOf("/")) || "/";
  const parentKind = pathKind(parent);
  if (parentKind === "missing") return `the directory ${echo(parent)} does not exist`;
  if (parentKind === "file" || parentKind === "other") return `${echo(parent)} is not a directory`;
  return undefined;
}

function parseMonitoringUrl(raw: string | undefined): URL {
  if (raw === undefined) return new URL("ws://localhost:8765");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigValueError(
      "MONITORING_URL",
      `is not a valid URL: ${echo(describeUrl(raw))}`,
    );
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new ConfigValueError(
      "MONITORING_URL",
      `must start with ws:// or wss://, got ${echo(url.protocol)}`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigValueError("MONITORING_URL", "must not hold credentials: use MONITORING_TOKEN");
  }
  if (!url.hostname) throw new ConfigValueError("MONITORING_URL", "has no host");
  try {
    parseHost(url.hostname);
  } catch (error) {
    throw new ConfigValueError("MONITORING_URL", (error as Error).message);
  }
  if (url.port === "0") {
    throw new ConfigValueError("MONITORING_URL", "port must be from 1 to 65535");
  }
  return url;
}

/** One line per problem, for the start-up error report. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `config error: ${p.variable}: ${p.message}`).join("\n");
}

/** The port a ws/wss URL connects to. */
export function urlPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "wss:" ? 443 : 80;
}
