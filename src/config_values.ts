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

/**
 * A secret, taken exactly as written: passwords may begin or end with blanks,
 * so nothing is trimmed; unset or empty is undefined.
 */
export function secret(env: EnvReader, name: string): string | undefined {
  const raw = env(name);
  return raw === undefined || raw === "" ? undefined : raw;
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
    throw new ConfigValueError(name, `must be a port from 1 to 65535, got ${echo(raw)}`);
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
    throw new ConfigValueError(name, `must be ${range}, got ${echo(raw)}`);
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
      `must be a whole number from ${min} to ${max}, got ${echo(raw)}`,
    );
  }
  return value;
}

/** One of a fixed set of lower-case words; the value's case does not matter (`DEBUG` is `debug`). */
export function oneOf<T extends string>(
  env: EnvReader,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const choice = choices.find((c) => c === raw.toLowerCase());
  if (choice === undefined) {
    throw new ConfigValueError(name, `must be one of ${choices.join(", ")}, got ${echo(raw)}`);
  }
  return choice;
}

const TRUE_WORDS = ["true", "yes", "on", "1"];
const FALSE_WORDS = ["false", "no", "off", "0"];

/** A yes/no value in any of the usual spellings: true/false, yes/no, on/off, 1/0 (any case). */
export function boolean(env: EnvReader, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const word = raw.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new ConfigValueError(
    name,
    `must be true or false (or yes/no, on/off, 1/0), got ${echo(raw)}`,
  );
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

/**
 * The URL of a server the agent talks to (the monitoring server, the remote
 * write endpoint): valid, one of `schemes`, no credentials in it (they go in
 * `tokenVariable`), a host that {@link parseHost} accepts, no port 0.
 */
export function parseServerUrl(
  variable: string,
  raw: string,
  schemes: readonly string[],
  tokenVariable: string,
): URL {
  const fail = (why: string) => new ConfigValueError(variable, why);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail(`is not a valid URL: ${echo(describeUrl(raw))}`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) {
    const allowed = schemes.map((s) => `${s}://`).join(" or ");
    throw fail(`must start with ${allowed}, got ${echo(url.protocol)}`);
  }
  if (url.username || url.password) throw fail(`must not hold credentials: use ${tokenVariable}`);
  if (!url.hostname) throw fail("has no host");
  try {
    parseHost(url.hostname);
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (url.port === "0") throw fail("port must be from 1 to 65535");
  return url;
}

/** `host:port` as `--allow-net` and messages write it: IPv6 in brackets. */
export function hostPort(host: string, portNumber: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${portNumber}`;
}

/**
 * A DNS name: labels of letters, digits, `-` and `_` (not at a label's ends),
 * at most 253 characters. Labels longer than DNS allows (63) are let through:
 * the resolver refuses them locally and the check reports `dns`, which is true.
 */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/** An IPv6 literal (without brackets), as the URL parser understands it. */
function isIPv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * The one check of a host, shared by every variable and option that names
 * one: a DNS name, an IPv4 address, or an IPv6 address (in brackets, or bare
 * where no port follows). Returns the host without brackets; throws an
 * `Error` whose message says what is wrong, quoting at most
 * {@link MAX_ECHO} characters. What passes is always a valid `--allow-net`
 * entry, so a bad host can never stop the agent from starting.
 */
export function parseHost(raw: string): string {
  const shown = echo(raw);
  if (raw === "") throw new Error("the host is empty");
  if (/[\s\p{Cc}]/u.test(raw)) throw new Error(`${shown} holds a space or a control character`);
  if (raw.startsWith("-")) throw new Error(`${shown} starts with "-"`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new Error(`${shown} is a URL: write the host name or address alone`);
  }
  const bracketed = /^\[(.*)\]$/.exec(raw);
  if (bracketed) {
    if (!isIPv6(bracketed[1])) throw new Error(`${shown} is not a valid IPv6 address`);
    return bracketed[1];
  }
  if (raw.includes(":")) {
    if (isIPv6(raw)) return raw;
    if (/^[^:]*:\d*$/.test(raw)) {
      throw new Error(`${shown} holds a port: write the host alone and the port separately`);
    }
    throw new Error(`${shown} is not a host name or IP address (IPv6 addresses look like ::1)`);
  }
  if (/^[\d.]+$/.test(raw)) {
    const parts = raw.replace(/\.$/, "").split(".");
    if (parts.length !== 4 || parts.some((p) => p === "" || Number(p) > 255)) {
      throw new Error(`${shown} is not a valid IPv4 address`);
    }
    return raw;
  }
  if (!HOST_NAME.test(raw)) throw new Error(`${shown} is not a valid host name`);
  return raw;
}

/**
 * The variable's host (see {@link parseHost}); unset is an error saying
 * `why`. `portVariable` names where a port belongs, for the hint when the
 * value holds one.
 */
export function hostOf(env: EnvReader, name: string, why: string, portVariable?: string): string {
  const raw = required(env, name, why);
  try {
    return parseHost(raw);
  } catch (error) {
    const message = (error as Error).message;
    throw new ConfigValueError(
      name,
      portVariable
        ? message.replace(/the port separately$/, `the port in ${portVariable}`)
        : message,
    );
  }
}

/**
 * Parses `host:port` or `[v6]:port` (the form of `TCP_CHECKS` entries), with
 * the host checked by {@link parseHost}.
 */
export function parseHostPort(text: string): { host: string; port: number } {
  const shown = echo(text);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new Error(`${shown} is a URL: write host:port (e.g. example.com:443)`);
  }
  const match = /^(\[[^\]]*\]|[^:\[\]]*):(\d+)$/.exec(text);
  if (!match) {
    const hint = !text.startsWith("[") && isIPv6(text.replace(/:\d+$/, ""))
      ? " (write IPv6 addresses in brackets, e.g. [::1]:80)"
      : !/:\d+$/.test(text)
      ? " (the port is missing)"
      : "";
    throw new Error(`${shown} is not host:port${hint}`);
  }
  const [, hostText, portText] = match;
  const portNumber = Number(portText);
  if (portNumber < 1 || portNumber > 65535) {
    throw new Error(`${shown}: port must be from 1 to 65535`);
  }
  return { host: parseHost(hostText), port: portNumber };
}

/** The longest part of a bad value quoted back in a message. */
export const MAX_ECHO = 80;

/** A value quoted for a message: JSON-quoted, cut to {@link MAX_ECHO} characters. */
export function echo(value: string): string {
  if (value.length <= MAX_ECHO) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_ECHO))}… (${value.length} characters)`;
}
