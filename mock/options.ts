/**
 * The mock's settings from its environment (`MOCK_*`), the page's address
 * for humans, and the bearer-token comparison.
 *
 * @module
 */

import { useColor } from "./console.ts";

/** What the environment sets; `startMockMonitoring` takes it as its options. */
export interface MockEnvOptions {
  port: number;
  hostname: string;
  token?: string;
  acks: boolean;
  quiet: boolean;
  color: boolean;
}

/**
 * Reads the MOCK_* variables; throws an Error naming the bad variable. Lines
 * are coloured when `terminal` says stdout is a terminal and `NO_COLOR` is not
 * set (`MOCK_COLOR=always|never` overrides the first).
 */
export function mockOptionsFromEnv(
  get: (name: string) => string | undefined,
  terminal: { isTerminal: boolean; noColor: boolean } = { isTerminal: false, noColor: false },
): MockEnvOptions {
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.trim().toLowerCase();
    if (!raw) return fallback;
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    throw new Error(`${name} must be true or false, got ${JSON.stringify(get(name))}`);
  };
  const rawPort = get("MOCK_PORT")?.trim() || "8765";
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    throw new Error(`MOCK_PORT must be a whole number from 0 to 65535, got ${rawPort}`);
  }
  const hostname = (get("MOCK_HOST")?.trim() || "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  if (/\s|\//.test(hostname)) throw new Error(`MOCK_HOST is not a host name or address`);
  const token = get("MOCK_TOKEN") || undefined; // empty means no token; never printed
  const color = useColor(get("MOCK_COLOR"), terminal.isTerminal, terminal.noColor);
  return {
    port,
    hostname,
    token,
    acks: flag("MOCK_ACKS", true),
    quiet: flag("MOCK_QUIET", false),
    color,
  };
}

/** The page's URL for a browser on this host: a wildcard address is reached on loopback. */
export function pageUrl(hostname: string, port: number): string {
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "[::1]" : hostname;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}/`;
}

/** Compares without an early exit, so timing does not reveal the token. */
export function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i] ?? 0);
  return diff === 0;
}
