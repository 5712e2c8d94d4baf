/**
 * The agent-wide settings: everything that is not one module's. A bad value
 * here stops start-up (exit code 2), so each problem is collected with the
 * variable's name instead of thrown.
 *
 * @module
 */

import type { EnvReader } from "./check.ts";
import {
  ConfigValueError,
  echo,
  integer,
  list,
  oneOf,
  optional,
  parseServerUrl,
  seconds,
} from "./config_values.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { METRICS_ENV, type MetricsSettings, resolveMetricsSettings } from "./metrics/config.ts";
import { type MonitoringTls, resolveMonitoringTls, TLS_ENV } from "./config_tls.ts";
import { OVERFLOW_POLICIES, type OverflowPolicy } from "./queue.ts";
import { type ReadFile, readSecret } from "./secret_files.ts";

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
  "AGENT_CHECKS_FILE",
  "MONITORING_TOKEN_FILE",
  "QUEUE_SPOOL_DIR",
  "QUEUE_SPOOL_MAX_BYTES",
  "QUEUE_MAX_AGE_SECONDS",
  // Set by the supervisors (launcher.ts, bin/kozak-supervise), never by users: see src/restart.ts.
  "KOZAK_SUPERVISED",
  "KOZAK_HANDOVER",
  ...METRICS_ENV,
  ...TLS_ENV,
] as const;

/**
 * The largest `QUEUE_MAX_EVENTS`. A queued event costs about 0.5–1.8 KB of
 * memory (550 bytes of heap for a 480-byte PostgreSQL event, up to 1.8 KB of
 * RSS with the garbage collector's headroom), so a million events may take
 * up to ~1.8 GB; the default of 10,000 takes 5–18 MB.
 */
export const QUEUE_MAX_EVENTS_LIMIT = 1_000_000;

/** Bounds of every interval and timeout, in seconds. */
export const INTERVAL_BOUNDS = { min: 0.1, max: 86_400 };
export const TIMEOUT_BOUNDS = { min: 0.1, max: 3_600 };

/** What a path names on disk; `unknown` when the process may not look. */
export type PathKind = "file" | "directory" | "other" | "missing" | "unknown";

/** Looks a path up on disk (`Deno.statSync`); injectable so that config stays testable. */
export type PathProbe = (path: string) => PathKind;

/** A fatal configuration problem. */
export interface ConfigProblem {
  /** The variable or the `file:line:col` it is about; "" when the message starts with a position. */
  variable: string;
  message: string;
}

/** The agent-wide settings, resolved with defaults. */
export interface AgentSettings {
  /** Absent until the host name is asked (when AGENT_ID is unset). */
  agentIdRaw?: string;
  monitoringUrl: URL;
  monitoringToken?: string;
  /** `MONITORING_TOKEN_FILE`, when the token came from a file (for `--allow-read`). */
  monitoringTokenFile?: string;
  /** `AGENT_CHECKS_FILE`: the checks file, when one is used. */
  checksFile?: string;
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
  /** `QUEUE_SPOOL_DIR`: where queued events are also kept on disk; absent = memory only. */
  spoolDir?: string;
  /** `QUEUE_SPOOL_MAX_BYTES`: cap of the spooled events' bytes. */
  spoolMaxBytes: number;
  /** `QUEUE_MAX_AGE_SECONDS` in ms; 0 = events never expire. */
  queueMaxAgeMs: number;
  /** A supervisor restarts the agent when it exits with {@link RESTART_EXIT_CODE}. */
  supervised: boolean;
  /** The supervisor hands the previous process's queue over on stdin. */
  handover: boolean;
  monitoringConnectTimeoutMs: number;
  /** `METRICS_LISTEN` and `REMOTE_WRITE_*` (src/metrics/config.ts). */
  metrics: MetricsSettings;
  /** `MONITORING_CA_FILE` and the client certificate (src/config_tls.ts); absent when none is set. */
  monitoringTls?: MonitoringTls;
}

/** Reads the agent-wide settings; every bad value is added to `problems`. */
export function resolveAgentSettings(
  env: EnvReader,
  problems: ConfigProblem[],
  io: { pathKind?: PathProbe; readFile: ReadFile },
): AgentSettings {
  const pathKind = io.pathKind;
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      problems.push({ variable: error.variable, message: error.reason });
      return fallback;
    }
  };
  const statusFile = optional(env, "AGENT_STATUS_FILE");
  if (statusFile !== undefined) {
    const why = statusFileProblem(statusFile, pathKind);
    if (why) problems.push({ variable: "AGENT_STATUS_FILE", message: why });
  }
  const agentIdRaw = optional(env, "AGENT_ID");
  if (
    agentIdRaw !== undefined &&
    (agentIdRaw.length > 256 || [...agentIdRaw].some((c) => c.charCodeAt(0) < 0x20))
  ) {
    problems.push({ variable: "AGENT_ID", message: "must be at most 256 printable characters" });
  }
  const token = readSecret(
    env("MONITORING_TOKEN"),
    env("MONITORING_TOKEN_FILE"),
    { direct: "MONITORING_TOKEN", file: "MONITORING_TOKEN_FILE" },
    io.readFile,
  );
  if (!token.ok) {
    const message = token.message.replace(/^MONITORING_TOKEN_FILE: /, "");
    problems.push({ variable: "MONITORING_TOKEN_FILE", message });
  }
  const checksFile = optional(env, "AGENT_CHECKS_FILE");
  if (checksFile !== undefined && checksFile.includes("\n")) {
    problems.push({ variable: "AGENT_CHECKS_FILE", message: "must be a path" });
  }
  return {
    agentIdRaw,
    monitoringUrl: attempt(
      () => parseMonitoringUrl(optional(env, "MONITORING_URL")),
      new URL("ws://localhost:8765"),
    ),
    monitoringToken: token.ok ? token.value?.trim() || undefined : undefined,
    monitoringTokenFile: token.ok ? token.file : undefined,
    checksFile,
    enabledModules: [...new Set(list(env, "ENABLED_MODULES").map((n) => n.toLowerCase()))],
    checkIntervalMs: attempt(
      () => seconds(env, "CHECK_INTERVAL_SECONDS", 30, INTERVAL_BOUNDS),
      30_000,
    ),
    checkTimeoutMs: attempt(() => seconds(env, "CHECK_TIMEOUT_SECONDS", 5, TIMEOUT_BOUNDS), 5_000),
    checkConcurrency: attempt(() => integer(env, "CHECK_CONCURRENCY", 64, 1, 10_000), 64),
    heartbeatIntervalMs: attempt(
      () => seconds(env, "HEARTBEAT_INTERVAL_SECONDS", 15, { ...INTERVAL_BOUNDS, allowZero: true }),
      15_000,
    ),
    queueMaxEvents: attempt(
      () => integer(env, "QUEUE_MAX_EVENTS", 10_000, 1, QUEUE_MAX_EVENTS_LIMIT),
      10_000,
    ),
    queueOverflow: attempt(
      () => oneOf(env, "QUEUE_OVERFLOW", OVERFLOW_POLICIES, "drop-oldest"),
      "drop-oldest",
    ),
    logLevel: attempt(() => oneOf(env, "LOG_LEVEL", LOG_LEVELS, "info"), "info"),
    logFormat: attempt(() => oneOf(env, "LOG_FORMAT", LOG_FORMATS, "pretty"), "pretty"),
    shutdownFlushMs: attempt(
      () => seconds(env, "SHUTDOWN_FLUSH_SECONDS", 5, { min: 0, max: 300, allowZero: true }),
      5_000,
    ),
    statusFile,
    spoolDir: attempt(() => spoolDirOf(optional(env, "QUEUE_SPOOL_DIR"), pathKind), undefined),
    spoolMaxBytes: attempt(
      () => integer(env, "QUEUE_SPOOL_MAX_BYTES", 64 * 1024 * 1024, 65_536, 2 ** 40),
      64 * 1024 * 1024,
    ),
    queueMaxAgeMs: attempt(
      () => seconds(env, "QUEUE_MAX_AGE_SECONDS", 0, { min: 1, max: 31_536_000, allowZero: true }),
      0,
    ),
    supervised: env("KOZAK_SUPERVISED") === "1",
    handover: env("KOZAK_HANDOVER") === "stdin",
    monitoringConnectTimeoutMs: attempt(
      () => seconds(env, "MONITORING_CONNECT_TIMEOUT_SECONDS", 10, { min: 0.1, max: 300 }),
      10_000,
    ),
    metrics: resolveMetricsSettings(env, problems, io.readFile),
    monitoringTls: resolveMonitoringTls(env, problems, io.readFile),
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

/** `QUEUE_SPOOL_DIR`: an absolute path of a directory (made at start when missing). */
function spoolDirOf(raw: string | undefined, pathKind?: PathProbe): string | undefined {
  if (raw === undefined) return undefined;
  const fail = (why: string) => new ConfigValueError("QUEUE_SPOOL_DIR", why);
  if (!raw.startsWith("/")) throw fail(`must be an absolute path, got ${echo(raw)}`);
  if (raw === "/" || /[,\n]/.test(raw)) {
    throw fail(`must be a directory of its own, got ${echo(raw)}`);
  }
  const dir = raw.replace(/\/+$/, "");
  const kind = pathKind?.(dir);
  if (kind === "file" || kind === "other") throw fail(`${echo(dir)} exists and is not a directory`);
  return dir;
}

function parseMonitoringUrl(raw: string | undefined): URL {
  if (raw === undefined) return new URL("ws://localhost:8765");
  return parseServerUrl("MONITORING_URL", raw, ["ws", "wss"], "MONITORING_TOKEN");
}

/** The port a ws/wss URL connects to. */
export function urlPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "wss:" ? 443 : 80;
}
