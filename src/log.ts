/**
 * Levelled logging in `pretty` or `json` format, always to stderr so that
 * `deno task check --json` keeps stdout for events. Every line passes through
 * the redactor.
 *
 * @module
 */

import type { Redactor } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["pretty", "json"];

/** Structured fields of one log line. */
export type LogFields = Record<string, unknown>;

/** The logger handed to every part of the agent. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Default `pretty`. */
  format?: LogFormat;
  /** Removes secrets from every line. */
  redactor: Redactor;
  /** Where finished lines go; default a synchronous write to stderr. */
  write?: (line: string) => void;
  /** Wall clock; default `Date.now`. */
  now?: () => number;
}

const encoder = new TextEncoder();

/** Writes a line to stderr synchronously, so nothing is lost at exit. */
export function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") {
    return /^[\w.:\/@\[\]-]+$/.test(value) ? value : JSON.stringify(value);
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * import { createRedactor } from "./redact.ts";
 * const lines: string[] = [];
 * const log = createLogger({ redactor: createRedactor(["s3cret"]), write: (l) => lines.push(l) });
 * log.info("login with s3cret failed");
 * console.assert(!lines[0].includes("s3cret"));
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const format = options.format ?? "pretty";
  const write = options.write ?? writeStderr;
  const now = options.now ?? Date.now;
  const redact = options.redactor;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const ts = new Date(now()).toISOString();
    // Only the message and the values are redacted: the time, the level and the
    // field names are structure, and a short secret must not rewrite them.
    const msg = redact.text(message);
    const plain: LogFields = {};
    for (const [k, v] of Object.entries(fields ?? {})) {
      plain[k] = redact.value(v instanceof Error ? v.message : v);
    }
    if (format === "json") {
      // ts, level and msg come first and cannot be overwritten by a field of the same name.
      const record: LogFields = { ts, level, msg };
      for (const [k, v] of Object.entries(plain)) if (!(k in record)) record[k] = v;
      write(JSON.stringify(record));
      return;
    }
    const extra = Object.entries(plain).map(([k, v]) => `${k}=${renderValue(v)}`).join(" ");
    write(`${ts} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? " " + extra : ""}`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
