/**
 * One run of the http check: the request (and, when allowed, its
 * redirects), then the verdict: the status against `HTTP_EXPECT_STATUS`,
 * the body against `HTTP_BODY_MATCH`, and the certificate's remaining days
 * against `HTTP_CERT_WARN_DAYS`. Loaded by `http.load()` only when the
 * module is enabled (it brings `node:net`, `node:tls` and `node:dns`).
 *
 * @module
 */

import { type CheckResult, Failure, type RunContext } from "../../src/check.ts";
import { describeUrl, hostPort, parseHost } from "../../src/config_values.ts";
import { untilAborted } from "../common/deadline.ts";
import { portOf } from "../common/http_url.ts";
import { type HttpConfig, netNeeds } from "./config.ts";
import { type Answer, exchange, Facts, type Hop } from "./exchange.ts";
import { bodyMatches, describeMatch, describeRanges, statusExpected } from "./expect.ts";

/** Status codes whose `Location` is followed when redirects are. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The longest `Location` quoted in a message or `details`. */
const MAX_LOCATION_CHARS = 200;

function shortUrl(text: string): string {
  const shown = describeUrl(text);
  return shown.length > MAX_LOCATION_CHARS ? `${shown.slice(0, MAX_LOCATION_CHARS)}…` : shown;
}

/** The request headers of a hop: Host, the defaults, the credentials (same origin only), the configured ones. */
function headersFor(config: HttpConfig, url: URL): [string, string][] {
  const headers = new Map<string, [string, string]>([
    ["host", ["Host", url.host]],
    ["user-agent", ["User-Agent", "kozak-agent"]],
    ["accept", ["Accept", "*/*"]],
  ]);
  // Credentials go only to the configured origin, never along a redirect elsewhere.
  if (config.authorization && url.origin === new URL(config.url).origin) {
    headers.set("authorization", ["Authorization", config.authorization]);
  }
  for (const [name, value] of config.headers) headers.set(name.toLowerCase(), [name, value]);
  return [...headers.values()];
}

async function caOf(config: HttpConfig, signal: AbortSignal): Promise<Hop["ca"]> {
  if (config.caFile === undefined) return undefined;
  try {
    return {
      pem: await untilAborted(Deno.readTextFile(config.caFile), signal),
      file: config.caFile,
    };
  } catch (error) {
    if (signal.aborted) {
      throw new Failure("timeout", "timed out reading HTTP_CA_FILE", { phase: "tls" });
    }
    const reason = error instanceof Deno.errors.NotCapable ? "permission" : "config";
    throw new Failure(
      reason,
      `cannot read HTTP_CA_FILE ${config.caFile}: ${(error as Error).message}`,
      { phase: "tls" },
    );
  }
}

/** The hop to `url`, or the failure that forbids it. */
function hopTo(url: URL, config: HttpConfig, ca: Hop["ca"]): Hop {
  const host = parseHost(url.hostname);
  const port = portOf(url);
  return {
    url,
    host,
    port,
    address: hostPort(host, port),
    method: config.method,
    headers: headersFor(config, url),
    maxBodyBytes: config.maxBodyBytes,
    ...(ca ? { ca } : {}),
  };
}

/** The next hop of a redirect, or a failure saying why it is not taken. */
function redirectTarget(from: URL, location: string, visited: string[], answer: Answer): URL {
  const status = answer.head.status;
  const fail = (reason: "http_status" | "permission", message: string) =>
    new Failure(reason, message, { location: shortUrl(location) });
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw fail(
      "http_status",
      `${from.href} answered HTTP ${status} with a Location that is not a URL`,
    );
  }
  next.hash = "";
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw fail(
      "http_status",
      `${from.href} redirects to ${shortUrl(next.href)}: not http:// or https://`,
    );
  }
  if (visited.includes(next.href)) {
    const chain = [...visited, next.href].map(shortUrl).join(" → ");
    throw fail("http_status", `redirect loop: ${chain}`);
  }
  let host: string;
  try {
    host = parseHost(next.hostname);
  } catch (error) {
    throw fail("http_status", `${from.href} redirects to a bad host: ${(error as Error).message}`);
  }
  const grant = netNeeds(host, hostPort(host, portOf(next)));
  if (Deno.permissions.querySync({ name: "net", host: grant }).state !== "granted") {
    throw fail(
      "permission",
      `${from.href} redirects to ${
        shortUrl(next.href)
      }, outside the agent's --allow-net (it may reach ${grant} only if granted); point HTTP_URL at the final address`,
    );
  }
  return next;
}

/** The request and its redirects: the last answer, and the URL that gave it. */
async function follow(config: HttpConfig, ctx: RunContext, facts: Facts) {
  let url = new URL(config.url);
  const visited = [url.href];
  let ca: Hop["ca"];
  for (let redirects = 0;; redirects++) {
    if (url.protocol === "https:" && ca === undefined) ca = await caOf(config, ctx.signal);
    const answer = await exchange(hopTo(url, config, ca), ctx, facts);
    const location = answer.head.headers.get("location");
    if (
      redirects >= config.followRedirects || !REDIRECTS.has(answer.head.status) ||
      location === null
    ) {
      return { answer, url, redirects };
    }
    url = redirectTarget(url, location, visited, answer);
    visited.push(url.href);
    facts.details.redirects = redirects + 1;
  }
}

/** The status verdict: the answer's code is expected, or an `http_status` failure. */
function checkStatus(config: HttpConfig, url: URL, answer: Answer, redirects: number): void {
  const { status, statusText, headers } = answer.head;
  if (statusExpected(config.expectStatus, status)) return;
  const details: Record<string, unknown> = {};
  let message = `${url.href} answered HTTP ${status}${
    statusText ? ` ${statusText}` : ""
  }, expected ${describeRanges(config.expectStatus)}`;
  const location = headers.get("location");
  if (REDIRECTS.has(status) && location !== null) {
    details.location = shortUrl(URL.parse(location, url)?.href ?? location);
    message += config.followRedirects === 0
      ? `: a redirect to ${details.location}, not followed (HTTP_FOLLOW_REDIRECTS=0)`
      : `: a redirect to ${details.location}, past the ${redirects} followed (HTTP_FOLLOW_REDIRECTS=${config.followRedirects})`;
  }
  throw new Failure("http_status", message, details);
}

/** The body verdict: the match is found in what was read, or a `protocol` failure. */
function checkBody(config: HttpConfig, url: URL, answer: Answer): void {
  if (config.bodyMatch === undefined || answer.body === undefined) return;
  const text = new TextDecoder().decode(answer.body.bytes);
  if (bodyMatches(config.bodyMatch, text)) return;
  const scope = answer.body.truncated
    ? `its first ${answer.body.bytes.length} bytes (HTTP_MAX_BODY_BYTES)`
    : `its ${answer.body.bytes.length} bytes`;
  const verb = config.bodyMatch.kind === "regex" ? "match" : "contain";
  throw new Failure(
    "protocol",
    `the body of ${url.href} does not ${verb} ${describeMatch(config.bodyMatch)} (${scope})`,
  );
}

/** One run: the answer judged, every measurement in `details`. */
export async function run(config: HttpConfig, ctx: RunContext): Promise<CheckResult> {
  const target = config.url;
  const facts = new Facts();
  try {
    const { answer, url, redirects } = await follow(config, ctx, facts);
    if (redirects > 0) facts.details.final_url = shortUrl(url.href);
    if (answer.body) {
      facts.details.body_bytes = answer.body.bytes.length;
      facts.details.body_truncated = answer.body.truncated;
    }
    checkStatus(config, url, answer, redirects);
    checkBody(config, url, answer);
    const { cert, certAddress } = facts;
    if (cert && cert.details.cert_days_remaining < config.certWarnDays) {
      return {
        target,
        status: "warn",
        reason: "threshold",
        message:
          `the certificate of ${certAddress} expires in ${cert.details.cert_days_remaining} days (${cert.details.cert_not_after}), fewer than HTTP_CERT_WARN_DAYS=${config.certWarnDays}`,
        details: facts.details,
      };
    }
    return { target, status: "ok", details: facts.details };
  } catch (error) {
    if (error instanceof Failure) return error.result(target, facts.details);
    throw error;
  }
}
