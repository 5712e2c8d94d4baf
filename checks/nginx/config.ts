/**
 * The nginx module's configuration: `NGINX_STATUS_URL` parsed and checked
 * into what a run needs (the URL without credentials, the `host:port` to
 * allow, the Basic header) and every form of the credentials to redact.
 *
 * @module
 */

import type { EnvReader, InstanceSpec } from "../../src/check.ts";
import { describeUrl, hostPort, optional, parseHost } from "../../src/config_values.ts";

/** The one variable of this module. */
export const NGINX_STATUS_URL = "NGINX_STATUS_URL";

/**
 * Ports the Fetch standard blocks ("bad ports"); Deno's fetch refuses them,
 * so they are rejected as configuration errors instead of failing every run.
 */
// deno-fmt-ignore
const BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
  103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
  512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
  995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
  6669, 6679, 6697, 10080,
]);

/** One configured status page. */
export interface NginxConfig {
  /** The URL fetched and named in events: `NGINX_STATUS_URL` without user info and fragment. */
  url: string;
  /** `host:port` as dialled, for `--allow-net` (IPv6 in brackets). */
  net: string;
  /** `Basic …` when the URL holds user info. */
  authorization?: string;
  /** Every form of the credentials that must never appear in a log or an event. */
  secretValues: string[];
}

function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function portError(written: string): Error {
  return new Error(`port must be from 1 to 65535, got ${written}`);
}

/**
 * The port as written in the URL's authority, when there is one. `new URL`
 * refuses a port over 65535 without saying why; this finds the port so that
 * the error can.
 */
function writtenPort(raw: string): string | undefined {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#\\]*)/.exec(raw.trim())?.[1];
  if (authority === undefined) return undefined;
  return /:(\d+)$/.exec(authority.slice(authority.lastIndexOf("@") + 1))?.[1];
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    const written = writtenPort(raw);
    if (written !== undefined && Number(written) > 65535) throw portError(written);
    throw new Error("is not a valid URL (expected e.g. http://127.0.0.1/nginx_status)");
  }
}

/** The credentials of the URL: the Basic header and every form of them to redact. */
function credentials(raw: string, url: URL): Pick<NginxConfig, "authorization" | "secretValues"> {
  if (url.username === "" && url.password === "") return { secretValues: [] };
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw new Error("the user name or password in the URL is not valid percent-encoding");
  }
  const authorization = `Basic ${base64Utf8(`${username}:${password}`)}`;
  const secretValues = new Set([authorization.slice("Basic ".length)]);
  // The user info as written, as the URL serializes it, and decoded; with
  // no password the user name is the credential (a token), so it is secret too.
  const written = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^@]*)@/.exec(raw)?.[1];
  const writtenPassword = written?.includes(":") ? written.slice(written.indexOf(":") + 1) : "";
  for (
    const value of password === "" ? [written, url.username, username] : [
      written,
      writtenPassword,
      `${url.username}:${url.password}`,
      url.password,
      `${username}:${password}`,
      password,
    ]
  ) {
    if (value) secretValues.add(value);
  }
  return { authorization, secretValues: [...secretValues] };
}

/** Parses and checks the URL; errors never quote the user info. */
export function parseStatusUrl(raw: string): NginxConfig {
  const url = parseUrl(raw);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`must start with http:// or https://, got ${url.protocol}//`);
  }
  const portNumber = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  // `new URL` takes port 0 (and refuses above 65535, see parseUrl).
  if (portNumber < 1) throw portError(url.port);
  if (BLOCKED_PORTS.has(portNumber)) {
    throw new Error(
      `port ${portNumber} is one that fetch refuses to use (the Fetch standard's bad ports)`,
    );
  }
  const { authorization, secretValues } = credentials(raw, url);
  url.username = "";
  url.password = "";
  url.hash = "";
  return {
    url: url.href,
    net: hostPort(parseHost(url.hostname), portNumber),
    ...(authorization ? { authorization } : {}),
    secretValues,
  };
}

/** `NGINX_STATUS_URL` → the module's one unit, or why it cannot run. */
export function parseNginx(env: EnvReader): InstanceSpec<NginxConfig>[] {
  const raw = optional(env, NGINX_STATUS_URL);
  if (raw === undefined) {
    return [{
      name: NGINX_STATUS_URL,
      targets: [NGINX_STATUS_URL],
      ok: false,
      error:
        `${NGINX_STATUS_URL} is required: the URL of nginx's stub_status page, e.g. http://127.0.0.1/nginx_status`,
    }];
  }
  try {
    const config = parseStatusUrl(raw);
    return [{ name: config.url, targets: [config.url], ok: true, config }];
  } catch (error) {
    // A URL that does not parse cannot be masked reliably: name the variable instead.
    let shown = NGINX_STATUS_URL;
    try {
      new URL(raw);
      shown = describeUrl(raw);
    } catch { /* keep the variable's name */ }
    return [{
      name: shown,
      targets: [shown],
      ok: false,
      error: `${NGINX_STATUS_URL}: ${(error as Error).message}`,
    }];
  }
}
