/**
 * Parsers for configuration values, shared by the agent and the modules.
 * Each throws a {@link ConfigValueError} naming the variable and the reason;
 * secret values are never quoted back.
 *
 * @module
 */

import type { EnvReader } from "./check.ts";

/** A bad configuration value: the variable and why. */
export class ConfigValueError extends Error {
  constructor(readonly variable: string, readonly reason: string) {
    super(`${variable}: ${reason}`);
    this.name = "ConfigValueError";
  }
}

/** The value, or undefined when unset or blank. */
export function optional(env: EnvReader, name: string): string | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** The value; unset or blank is an error. */
export function required(env: EnvReader, name: string, why = "is required"): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigValueError(name, why);
  return value;
}

/** A TCP port 1–65535. */
export function port(env: EnvReader, name: string, fallback: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
    throw new ConfigValueError(name, `must be a port from 1 to 65535, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A duration in seconds (fractions allowed) within [min, max], returned in ms. */
export function seconds(
  env: EnvReader,
  name: string,
  fallbackSeconds: number,
  bounds: { min: number; max: number; allowZero?: boolean },
): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallbackSeconds * 1000;
  const value = Number(raw);
  const zeroOk = bounds.allowZero && value === 0;
  if (
    !/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) ||
    (!zeroOk && (value < bounds.min || value > bounds.max))
  ) {
    const range = `${
      bounds.allowZero ? "0 or " : ""
    }a number of seconds from ${bounds.min} to ${bounds.max}`;
    throw new ConfigValueError(name, `must be ${range}, got ${JSON.stringify(raw)}`);
  }
  return Math.round(value * 1000);
}

/** A whole number within [min, max]. */
export function integer(
  env: EnvReader,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigValueError(
      name,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(
  env: EnvReader,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ConfigValueError(
      name,
      `must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw as T;
}

/** A comma list; blanks dropped, order kept, duplicates removed. */
export function list(env: EnvReader, name: string): string[] {
  const raw = optional(env, name);
  if (raw === undefined) return [];
  return [...new Set(raw.split(",").map((s) => s.trim()).filter((s) => s !== ""))];
}

/** A URL as written, with any user info masked, for messages. */
export function describeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password) {
      url.username = url.username ? "***" : "";
      url.password = url.password ? "***" : "";
    }
    return url.href;
  } catch {
    return raw.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/** `host:port` as `--allow-net` and messages write it: IPv6 in brackets. */
export function hostPort(host: string, portNumber: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${portNumber}`;
}

/**
 * Parses `host:port` or `[v6]:port`. Host names are checked against the
 * characters DNS names and IP literals may hold.
 */
export function parseHostPort(text: string): { host: string; port: number } {
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:\[\]]+):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  if (!match) {
    const hint = (text.match(/:/g) ?? []).length > 1 && !text.startsWith("[")
      ? " (write IPv6 addresses in brackets, e.g. [::1]:80)"
      : "";
    throw new Error(`${JSON.stringify(text)} is not host:port${hint}`);
  }
  const [, host, portText] = match;
  const portNumber = Number(portText);
  if (portNumber < 1 || portNumber > 65535) {
    throw new Error(`${JSON.stringify(text)}: port must be from 1 to 65535`);
  }
  if (!bracketed && !/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9.])?$/.test(host)) {
    throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(host)} is not a valid host name`);
  }
  return { host, port: portNumber };
}
