/**
 * The one reading of an `http://` or `https://` URL for every check that
 * takes one (nginx, http): scheme and port checked with readable errors, the
 * user info turned into an `Authorization: Basic` header and removed, and
 * every form of the credentials collected for the redactor. Errors never
 * quote the user info.
 *
 * @module
 */

import { describeUrl, hostPort, parseHost } from "../../src/config_values.ts";

/** A checked URL. */
export interface HttpUrl {
  /** The URL without user info and without `#fragment`: what is requested and named in events. */
  url: URL;
  /** The host without brackets (`::1`), checked by `parseHost`. */
  host: string;
  /** The port, the scheme's default when the URL has none. */
  port: number;
  /** `host:port` as dialled and granted (`[::1]:443`). */
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

function parseUrl(raw: string, example: string): URL {
  try {
    return new URL(raw);
  } catch {
    const written = writtenPort(raw);
    if (written !== undefined && Number(written) > 65535) throw portError(written);
    throw new Error(`is not a valid URL (expected e.g. ${example})`);
  }
}

/** The credentials of the URL: the Basic header and every form of them to redact. */
function credentials(raw: string, url: URL): Pick<HttpUrl, "authorization" | "secretValues"> {
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

/** The URL's port, or its scheme's default (443 for `https:`, else 80). */
export function portOf(url: URL): number {
  return url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
}

/**
 * Parses and checks an `http://` or `https://` URL (see {@link HttpUrl});
 * throws an `Error` saying what is wrong, never quoting the user info.
 * `example` is shown when the text is no URL at all.
 *
 * @example
 * ```ts
 * import { parseHttpUrl } from "./http_url.ts";
 * const parsed = parseHttpUrl("https://user:pw@[::1]/health#top");
 * console.assert(parsed.url.href === "https://[::1]/health" && parsed.net === "[::1]:443");
 * console.assert(parsed.authorization === `Basic ${btoa("user:pw")}`);
 * ```
 */
export function parseHttpUrl(raw: string, example = "http://127.0.0.1/"): HttpUrl {
  const url = parseUrl(raw, example);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`must start with http:// or https://, got ${url.protocol}//`);
  }
  const port = portOf(url);
  // `new URL` takes port 0 (and refuses above 65535, see parseUrl).
  if (port < 1) throw portError(url.port);
  const { authorization, secretValues } = credentials(raw, url);
  url.username = "";
  url.password = "";
  url.hash = "";
  const host = parseHost(url.hostname); // "[::1]" → "::1"
  return {
    url,
    host,
    port,
    net: hostPort(host, port),
    ...(authorization ? { authorization } : {}),
    secretValues,
  };
}

/**
 * How a URL that failed {@link parseHttpUrl} is named in its config error:
 * the URL with its user info masked when it parses at all, else `fallback`
 * (the variable's name), since a URL that does not parse cannot be masked
 * reliably.
 */
export function shownUrl(raw: string, fallback: string): string {
  try {
    new URL(raw);
    return describeUrl(raw);
  } catch {
    return fallback;
  }
}
