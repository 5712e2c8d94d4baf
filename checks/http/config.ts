/**
 * The http module's configuration: `HTTP_URL` and its options parsed and
 * checked once into what a run needs, with every form of the credentials
 * collected for the redactor. A bad value makes the instance a config error
 * naming the variable; no secret is ever quoted back.
 *
 * @module
 */

import type { EnvReader, InstanceSpec, Needs, OptionSpec } from "../../src/check.ts";
import {
  ConfigValueError,
  echo,
  integer,
  list,
  oneOf,
  optional,
  secret,
} from "../../src/config_values.ts";
import { type HttpUrl, parseHttpUrl, shownUrl } from "../common/http_url.ts";
import { type BodyMatch, parseBodyMatch, parseStatusRanges, type StatusRanges } from "./expect.ts";

/** The largest body cap: the body is held in memory while it is matched. */
export const MAX_BODY_CAP = 64 * 1024 * 1024;
/** The most redirects a run may follow. */
export const MAX_REDIRECTS = 20;

/** The options this module reads (`HTTP_<NAME>` in the environment). */
export const HTTP_OPTIONS: readonly OptionSpec[] = [
  {
    name: "url",
    kind: "url",
    required: true,
    doc:
      "`http://` or `https://` URL to request, e.g. `https://example.com/health`; credentials in it (`https://user:password@…`) are secrets, sent as `Authorization: Basic`, and never appear in `target`",
  },
  { name: "method", kind: "string", default: "GET", doc: "`GET` or `HEAD`" },
  {
    name: "expect_status",
    kind: "list",
    default: "200-299",
    doc: "the status codes that count as up: a comma list of codes and ranges, e.g. `200-299,301`",
  },
  {
    name: "body_match",
    kind: "string",
    doc:
      "the body must contain this substring, or match `/regex/` (flags `i`, `m`, `s`, `u` after the last `/`)",
  },
  {
    name: "max_body_bytes",
    kind: "integer",
    default: "1048576",
    doc:
      `read at most this much of the body (0 to ${MAX_BODY_CAP}); a longer body is cut off there, not an error`,
  },
  {
    name: "follow_redirects",
    kind: "integer",
    default: "0",
    doc:
      `how many redirects to follow (0 to ${MAX_REDIRECTS}); each hop must be inside the agent's \`--allow-net\``,
  },
  {
    name: "ca_file",
    kind: "path",
    doc: "PEM file of CA certificates trusted instead of the system's (added to `--allow-read`)",
  },
  {
    name: "cert_warn_days",
    kind: "integer",
    default: "14",
    doc:
      '`warn` with `reason: "threshold"` when the leaf certificate expires in fewer days; 0 turns the warning off',
  },
  {
    name: "token",
    kind: "string",
    secret: true,
    doc: "sent as `Authorization: Bearer …` (not with credentials in the URL)",
  },
  {
    name: "headers",
    kind: "list",
    doc:
      "extra request headers, `Name: value` each, e.g. `Host: www.example.com` (no commas inside a value)",
  },
];

/** One configured URL. */
export interface HttpConfig {
  /** The URL requested and named in events: `HTTP_URL` without user info and fragment. */
  url: string;
  method: "GET" | "HEAD";
  expectStatus: StatusRanges;
  bodyMatch?: BodyMatch;
  maxBodyBytes: number;
  followRedirects: number;
  caFile?: string;
  certWarnDays: number;
  /** `Basic …` from the URL's user info, or `Bearer …` from `HTTP_TOKEN`. */
  authorization?: string;
  /** Extra request headers, as configured. */
  headers: [string, string][];
  /** What `--allow-net` must hold for the URL (see {@link netNeeds}). */
  net: string;
  /** Every form of the URL's credentials, for the redactor (`HTTP_TOKEN` is redacted as an option). */
  secretValues: string[];
}

/**
 * The `--allow-net` entry a URL's host needs: `host:port` for an IP
 * address; the whole host for a name, because the name lookup (getaddrinfo,
 * timed as the `dns` phase) is granted by Deno only for a host without a
 * port.
 */
export function netNeeds(host: string, net: string): string {
  return /^[\d.]+$/.test(host) || host.includes(":") ? net : host;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the client itself writes from the URL and the body framing. */
const OWN_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "te", "upgrade"]);

function parseHeaders(env: EnvReader): [string, string][] {
  return list(env, "HTTP_HEADERS").map((item): [string, string] => {
    const colon = item.indexOf(":");
    const name = colon < 0 ? item : item.slice(0, colon).trim();
    const value = colon < 0 ? "" : item.slice(colon + 1).trim();
    if (colon < 0 || !TOKEN.test(name)) {
      throw new ConfigValueError("HTTP_HEADERS", `${echo(item)} is not \`Name: value\``);
    }
    if (/[\r\n\0]/.test(value)) {
      throw new ConfigValueError("HTTP_HEADERS", `the value of ${name} holds a line break`);
    }
    const lower = name.toLowerCase();
    if (lower === "authorization") {
      throw new ConfigValueError(
        "HTTP_HEADERS",
        "Authorization is not taken here, where it would not be a secret: use HTTP_TOKEN (a bearer token) or credentials in HTTP_URL",
      );
    }
    if (OWN_HEADERS.has(lower)) {
      throw new ConfigValueError("HTTP_HEADERS", `${name} is written by the check itself`);
    }
    return [name, value];
  });
}

function statusRanges(env: EnvReader): StatusRanges {
  const text = optional(env, "HTTP_EXPECT_STATUS") ?? "200-299";
  try {
    return parseStatusRanges(text);
  } catch (error) {
    throw new ConfigValueError("HTTP_EXPECT_STATUS", (error as Error).message);
  }
}

function bodyMatchOf(env: EnvReader, maxBodyBytes: number): BodyMatch | undefined {
  // Taken as written: a substring may begin or end with a blank.
  const text = env("HTTP_BODY_MATCH");
  if (text === undefined || text === "") return undefined;
  if (maxBodyBytes === 0) {
    throw new ConfigValueError("HTTP_BODY_MATCH", "is set but HTTP_MAX_BODY_BYTES=0 reads no body");
  }
  try {
    return parseBodyMatch(text);
  } catch (error) {
    throw new ConfigValueError("HTTP_BODY_MATCH", (error as Error).message);
  }
}

function authorizationOf(env: EnvReader, fromUrl: string | undefined): string | undefined {
  const token = secret(env, "HTTP_TOKEN");
  if (token === undefined) return fromUrl;
  if (fromUrl !== undefined) {
    throw new ConfigValueError(
      "HTTP_TOKEN",
      "is set and HTTP_URL holds credentials too: use one of them",
    );
  }
  if (/[\r\n\0]/.test(token)) throw new ConfigValueError("HTTP_TOKEN", "holds a line break");
  return `Bearer ${token.trim()}`;
}

function parseConfig(env: EnvReader, parsed: HttpUrl): HttpConfig {
  const maxBodyBytes = integer(env, "HTTP_MAX_BODY_BYTES", 1024 * 1024, 0, MAX_BODY_CAP);
  const config: HttpConfig = {
    url: parsed.url.href,
    method: oneOf(env, "HTTP_METHOD", ["get", "head"], "get").toUpperCase() as "GET" | "HEAD",
    expectStatus: statusRanges(env),
    maxBodyBytes,
    followRedirects: integer(env, "HTTP_FOLLOW_REDIRECTS", 0, 0, MAX_REDIRECTS),
    certWarnDays: integer(env, "HTTP_CERT_WARN_DAYS", 14, 0, 3650),
    headers: parseHeaders(env),
    net: netNeeds(parsed.host, parsed.net),
    secretValues: parsed.secretValues,
  };
  const bodyMatch = bodyMatchOf(env, maxBodyBytes);
  if (bodyMatch !== undefined) config.bodyMatch = bodyMatch;
  if (config.method === "HEAD" && bodyMatch !== undefined) {
    throw new ConfigValueError("HTTP_BODY_MATCH", "is set but HTTP_METHOD=HEAD has no body");
  }
  const caFile = optional(env, "HTTP_CA_FILE");
  if (caFile !== undefined) {
    if (parsed.url.protocol !== "https:" && config.followRedirects === 0) {
      throw new ConfigValueError("HTTP_CA_FILE", "is set but HTTP_URL is not https://");
    }
    config.caFile = caFile;
  }
  const authorization = authorizationOf(env, parsed.authorization);
  if (authorization !== undefined) config.authorization = authorization;
  return config;
}

/** `HTTP_*` → the module's one unit, or why it cannot run. Never throws for bad input. */
export function parseHttp(env: EnvReader): InstanceSpec<HttpConfig>[] {
  const raw = optional(env, "HTTP_URL");
  if (raw === undefined) {
    return [{
      name: "HTTP_URL",
      targets: ["HTTP_URL"],
      ok: false,
      error: "HTTP_URL is required: the URL to check, e.g. https://example.com/health",
    }];
  }
  let parsed: HttpUrl;
  try {
    parsed = parseHttpUrl(raw, "https://example.com/health");
  } catch (error) {
    const shown = shownUrl(raw, "HTTP_URL");
    return [{
      name: shown,
      targets: [shown],
      ok: false,
      error: `HTTP_URL: ${(error as Error).message}`,
    }];
  }
  const target = parsed.url.href;
  try {
    return [{ name: target, targets: [target], ok: true, config: parseConfig(env, parsed) }];
  } catch (error) {
    if (!(error instanceof ConfigValueError)) throw error;
    return [{ name: target, targets: [target], ok: false, error: error.message }];
  }
}

/** The URL's host (see {@link netNeeds}) and the CA file. */
export function httpNeeds(config: HttpConfig): Needs {
  return {
    net: [config.net],
    ...(config.caFile !== undefined ? { read: [config.caFile] } : {}),
  };
}
