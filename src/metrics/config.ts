/**
 * The metrics variables: `METRICS_LISTEN` (the `/metrics` and `/healthz`
 * listener) and `REMOTE_WRITE_*` (pushes to a Prometheus remote-write
 * receiver). Bad values are fatal like every agent-wide value (exit code 2),
 * so they are collected as problems naming the variable.
 *
 * @module
 */

import type { EnvReader } from "../check.ts";
import {
  ConfigValueError,
  hostPort,
  integer,
  optional,
  parseHostPort,
  parseServerUrl,
  seconds,
} from "../config_values.ts";
import { type ReadFile, readSecret } from "../secret_files.ts";

/** Variables of this part, for `--allow-env`. */
export const METRICS_ENV = [
  "METRICS_LISTEN",
  "REMOTE_WRITE_URL",
  "REMOTE_WRITE_INTERVAL_SECONDS",
  "REMOTE_WRITE_TOKEN",
  "REMOTE_WRITE_TOKEN_FILE",
  "REMOTE_WRITE_QUEUE_MAX_SAMPLES",
] as const;

/** Where `/metrics` is served. */
export interface MetricsListen {
  /** The host as `Deno.serve` takes it (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** `host:port` as `--allow-net` writes it. */
  entry: string;
}

/** The remote-write target. */
export interface RemoteWriteSettings {
  url: URL;
  intervalMs: number;
  token?: string;
  /** `REMOTE_WRITE_TOKEN_FILE`, when the token came from a file (for `--allow-read`). */
  tokenFile?: string;
  /** Bound of the remote-write queue, in samples. */
  maxSamples: number;
  /** `host:port` the agent dials, for `--allow-net`. */
  entry: string;
}

/** The metrics settings; each part is absent when it is off. */
export interface MetricsSettings {
  listen?: MetricsListen;
  remoteWrite?: RemoteWriteSettings;
}

/** What a problem looks like to the agent's configuration (structurally its `ConfigProblem`). */
interface Problem {
  variable: string;
  message: string;
}

/** Default bound of the remote-write queue: ~5 MB of memory, 15 minutes of 1,000 checks every 15 s. */
export const REMOTE_WRITE_QUEUE_DEFAULT = 500_000;

/** Reads the metrics variables; every bad value is added to `problems`. */
export function resolveMetricsSettings(
  env: EnvReader,
  problems: Problem[],
  readFile: ReadFile,
): MetricsSettings {
  const settings: MetricsSettings = {};
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      problems.push({ variable: error.variable, message: error.reason });
    }
  };
  attempt(() => {
    const raw = optional(env, "METRICS_LISTEN");
    if (raw !== undefined) settings.listen = parseListen(raw);
  });
  const rawUrl = optional(env, "REMOTE_WRITE_URL");
  const token = readSecret(
    env("REMOTE_WRITE_TOKEN"),
    env("REMOTE_WRITE_TOKEN_FILE"),
    { direct: "REMOTE_WRITE_TOKEN", file: "REMOTE_WRITE_TOKEN_FILE" },
    readFile,
  );
  if (!token.ok) {
    const message = token.message.replace(/^REMOTE_WRITE_TOKEN_FILE: /, "");
    problems.push({ variable: "REMOTE_WRITE_TOKEN_FILE", message });
  }
  if (rawUrl === undefined) {
    if (token.ok && token.value !== undefined) {
      problems.push({
        variable: "REMOTE_WRITE_TOKEN",
        message: "is set but REMOTE_WRITE_URL is not: set the URL, or remove the token",
      });
    }
    return settings;
  }
  attempt(() => {
    const url = parseRemoteWriteUrl(rawUrl);
    const intervalMs = seconds(env, "REMOTE_WRITE_INTERVAL_SECONDS", 15, { min: 1, max: 3_600 });
    const maxSamples = integer(
      env,
      "REMOTE_WRITE_QUEUE_MAX_SAMPLES",
      REMOTE_WRITE_QUEUE_DEFAULT,
      1_000,
      100_000_000,
    );
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    settings.remoteWrite = {
      url,
      intervalMs,
      maxSamples,
      entry: hostPort(host, port),
      token: token.ok ? token.value : undefined,
      tokenFile: token.ok ? token.file : undefined,
    };
  });
  return settings;
}

/**
 * `METRICS_LISTEN`: `host:port`, `[v6]:port`, or `:port` (every IPv4
 * address, as Prometheus exporters write it); throws a ConfigValueError.
 */
export function parseListen(raw: string): MetricsListen {
  const text = raw.startsWith(":") ? `0.0.0.0${raw}` : raw;
  try {
    const { host, port } = parseHostPort(text);
    return { hostname: host, port, entry: hostPort(host, port) };
  } catch (error) {
    throw new ConfigValueError(
      "METRICS_LISTEN",
      `${(error as Error).message}: write host:port, e.g. 127.0.0.1:9464`,
    );
  }
}

function parseRemoteWriteUrl(raw: string): URL {
  return parseServerUrl("REMOTE_WRITE_URL", raw, ["http", "https"], "REMOTE_WRITE_TOKEN");
}

/** The `--allow-net` entries the metrics part needs (agent mode). */
export function metricsNet(settings: MetricsSettings): string[] {
  return [settings.listen?.entry, settings.remoteWrite?.entry].filter((e): e is string =>
    e !== undefined
  );
}
