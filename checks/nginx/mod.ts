/**
 * nginx check: fetches the `stub_status` page named by `NGINX_STATUS_URL`,
 * parses it strictly and reports its seven values, the dropped connections
 * and, from the second run on, the accept and request rates.
 *
 * One GET per run over a fresh HTTP client (closed at the end of the run, so
 * no pooled connection outlives it); redirects are reported, not followed;
 * at most {@link MAX_BODY_BYTES} of body are read. Credentials in the URL are
 * sent only as an `Authorization: Basic` header and never appear in a result.
 *
 * @module
 */

import type { CheckModule, CheckResult, InstanceSpec, RunContext } from "../../src/check.ts";
import { failure } from "../../src/check.ts";
import { describeUrl, hostPort, optional, parseHost } from "../../src/config_values.ts";
import { classifyNetworkError, type NetworkFailure } from "../common/net_errors.ts";
import { parseStubStatus, type StubStatus, StubStatusError } from "./stub_status.ts";

/** The one variable of this module. */
export const NGINX_STATUS_URL = "NGINX_STATUS_URL";

/** The most body bytes a run reads; a real stub_status page is about 100 bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Where a run leaves its sample for the next run of the same instance. */
export const MEMORY_KEY = "nginx.previous_sample";

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

/** The counters a run keeps for the next one. */
interface Sample {
  accepts: number;
  handled: number;
  requests: number;
  /** `performance.now()` when the page had been read. */
  atMs: number;
}

function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Parses and checks the URL; errors never quote the user info. */
export function parseStatusUrl(raw: string): NginxConfig {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("is not a valid URL (expected e.g. http://127.0.0.1/nginx_status)");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`must start with http:// or https://, got ${url.protocol}//`);
  }
  const portNumber = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  if (portNumber < 1 || portNumber > 65535) {
    throw new Error(`port must be from 1 to 65535, got ${url.port}`);
  }
  if (BLOCKED_PORTS.has(portNumber)) {
    throw new Error(
      `port ${portNumber} is one that fetch refuses to use (the Fetch standard's bad ports)`,
    );
  }
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  } catch {
    throw new Error("the user name or password in the URL is not valid percent-encoding");
  }
  const secretValues = new Set<string>();
  let authorization: string | undefined;
  if (url.username !== "" || url.password !== "") {
    authorization = `Basic ${base64Utf8(`${username}:${password}`)}`;
    secretValues.add(authorization.slice("Basic ".length));
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
  }
  url.username = "";
  url.password = "";
  url.hash = "";
  const host = parseHost(url.hostname);
  return {
    url: url.href,
    net: hostPort(host, portNumber),
    ...(authorization ? { authorization } : {}),
    secretValues: [...secretValues],
  };
}

function parse(env: (name: string) => string | undefined): InstanceSpec<NginxConfig>[] {
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

/** The inner reason of a fetch error, without the "error sending request for url (…)" wrapper. */
function fetchErrorDetail(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    parts.push(e.message);
  }
  const text = parts.filter((p) => p !== "fetch failed").join(": ") || String(error);
  return (/client error \([A-Za-z]+\): (.*)$/s.exec(text)?.[1] ?? text).trim();
}

/** Names why `fetch` failed before a response arrived. */
export function classifyFetchError(
  error: unknown,
  signal: AbortSignal,
  net: string,
): NetworkFailure {
  if (signal.aborted) {
    return {
      reason: "timeout",
      message:
        `timed out waiting for ${net} to answer (connect, TLS handshake or response headers)`,
    };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return {
      reason: "permission",
      message: `the agent lacks the network permission for ${net}: ${(error as Error).message}`,
    };
  }
  const detail = fetchErrorDetail(error);
  if (
    /dns error|failed to lookup address|name or service not known|no address associated/i.test(
      detail,
    )
  ) {
    return { reason: "dns", message: `cannot resolve the host of ${net}: ${detail}` };
  }
  if (/connection refused/i.test(detail)) {
    return { reason: "refused", message: `cannot connect to ${net}: connection refused` };
  }
  // hyper's word for bytes that arrived before it had written the request: a
  // server that talks first (SSH, MySQL, SMTP …) whose greeting got there
  // before the client's first write, which a busy client makes likely.
  if (/received unexpected message from connection/i.test(detail)) {
    return {
      reason: "protocol",
      message:
        `${net} did not answer with HTTP: it sent data before the request (a server that talks first, such as SSH or MySQL?)`,
    };
  }
  // rustls read a first record that is not TLS at all: "HTTP/1.1 400 …" from
  // a plain HTTP port (or another protocol's bytes); its own words say nothing.
  if (/corrupt message of type InvalidContentType/i.test(detail)) {
    return {
      reason: "tls",
      message: `TLS with ${net} failed: the server does not speak TLS (it answered plain HTTP?)`,
    };
  }
  if (
    /certificate|\btls\b|ssl|handshake|corrupt message|peer is incompatible|alert/i
      .test(detail)
  ) {
    return { reason: "tls", message: `TLS with ${net} failed: ${detail}` };
  }
  if (
    /connection closed before message completed|invalid HTTP|invalid (status|header)|parse|unexpected (eof|end of file)|message head is too large/i
      .test(detail)
  ) {
    return { reason: "protocol", message: `${net} did not answer with HTTP: ${detail}` };
  }
  const kind = classifyNetworkError(error, signal);
  return { reason: kind.reason, message: `request to ${net} failed: ${detail}` };
}

type BodyRead =
  | { kind: "complete"; bytes: Uint8Array }
  | { kind: "too_large"; bytes: number }
  | { kind: "failed"; bytes: number; error: unknown };

/** Reads at most `limit` bytes; cancels the stream on overflow or when the signal fires. */
async function readCapped(
  response: Response,
  limit: number,
  signal: AbortSignal,
): Promise<BodyRead> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    return { kind: "too_large", bytes: declared };
  }
  if (response.body === null) return { kind: "complete", bytes: new Uint8Array() };
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (!signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return { kind: "too_large", bytes: total };
      }
      chunks.push(value);
    }
    if (signal.aborted) {
      await reader.cancel().catch(() => {});
      return { kind: "failed", bytes: total, error: signal.reason };
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    return { kind: "failed", bytes: total, error };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { kind: "complete", bytes };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function previousSample(memory: Map<string, unknown>): Sample | undefined {
  const value = memory.get(MEMORY_KEY) as Partial<Sample> | undefined;
  if (
    value && typeof value.accepts === "number" && typeof value.handled === "number" &&
    typeof value.requests === "number" && typeof value.atMs === "number"
  ) {
    return value as Sample;
  }
  return undefined;
}

/** The details of a parsed page, with rates against the previous run when they mean something. */
function metrics(
  status: StubStatus,
  atMs: number,
  memory: Map<string, unknown>,
): { details: Record<string, unknown>; message?: string } {
  const details: Record<string, unknown> = {
    active: status.active,
    accepts: status.accepts,
    handled: status.handled,
    requests: status.requests,
    reading: status.reading,
    writing: status.writing,
    waiting: status.waiting,
    // nginx reads accepts before handled without a lock, so handled can run a
    // hair ahead under load; a negative drop count would be a wrong number.
    dropped: Math.max(0, status.accepts - status.handled),
  };
  if (status.requestTimeMs !== undefined) details.request_time_ms = status.requestTimeMs;
  const previous = previousSample(memory);
  memory.set(
    MEMORY_KEY,
    {
      accepts: status.accepts,
      handled: status.handled,
      requests: status.requests,
      atMs,
    } satisfies Sample,
  );
  const reset = previous !== undefined && (
    status.accepts < previous.accepts || status.handled < previous.handled ||
    status.requests < previous.requests
  );
  details.counter_reset = reset;
  if (reset) {
    return {
      details,
      message:
        `the counters went down since the previous run (requests ${previous.requests} → ${status.requests}): nginx was restarted; rates resume with the next run`,
    };
  }
  const intervalS = previous ? (atMs - previous.atMs) / 1000 : 0;
  if (previous && intervalS > 0) {
    details.accepts_per_s = round((status.accepts - previous.accepts) / intervalS, 3);
    details.requests_per_s = round((status.requests - previous.requests) / intervalS, 3);
    details.rate_interval_s = round(intervalS, 3);
  }
  return { details };
}

function timedOut(target: string, phase: string): CheckResult {
  return failure(target, "timeout", `timed out ${phase}`);
}

/** One GET of the status page. */
export async function run(
  config: NginxConfig,
  { signal, memory, phase = () => {} }: RunContext,
): Promise<CheckResult> {
  const target = config.url;
  // A client of its own per run: closing it closes the connection, so no
  // pooled socket outlives the run (also after a timeout).
  const client = Deno.createHttpClient({});
  try {
    let response: Response;
    phase("request");
    try {
      const headers: Record<string, string> = { Accept: "text/plain" };
      if (config.authorization) headers.Authorization = config.authorization;
      response = await fetch(config.url, { signal, redirect: "manual", headers, client });
    } catch (error) {
      const kind = classifyFetchError(error, signal, config.net);
      return failure(target, kind.reason, kind.message);
    }

    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return httpStatusFailure(config, response);
    }

    phase("body");
    const body = await readCapped(response, MAX_BODY_BYTES, signal);
    if (signal.aborted) {
      const soFar = body.kind === "complete" ? body.bytes.byteLength : body.bytes;
      return timedOut(target, `reading the body of ${target} (${soFar} bytes so far)`);
    }
    if (body.kind === "too_large") {
      return failure(
        target,
        "protocol",
        `the body of ${target} is larger than ${MAX_BODY_BYTES} bytes: not a stub_status page`,
        { body_bytes: body.bytes },
      );
    }
    if (body.kind === "failed") {
      return failure(
        target,
        "protocol",
        `the body of ${target} was cut off after ${body.bytes} bytes: ${
          fetchErrorDetail(body.error)
        }`,
      );
    }
    const atMs = performance.now();

    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body.bytes);
    } catch {
      return failure(
        target,
        "protocol",
        `the body of ${target} is not text: not a stub_status page`,
      );
    }
    let status: StubStatus;
    try {
      status = parseStubStatus(text);
    } catch (error) {
      if (!(error instanceof StubStatusError)) throw error;
      return failure(target, "protocol", `${target} is not a stub_status page: ${error.message}`);
    }
    const { details, message } = metrics(status, atMs, memory);
    return message ? { target, status: "ok", message, details } : { target, status: "ok", details };
  } finally {
    client.close();
  }
}

function httpStatusFailure(config: NginxConfig, response: Response): CheckResult {
  const code = response.status;
  const details: Record<string, unknown> = { http_status: code };
  let message = `${config.url} answered HTTP ${code}${
    response.statusText ? ` ${response.statusText}` : ""
  }`;
  const location = response.headers.get("location");
  if (code >= 300 && code < 400 && location !== null) {
    let shown: string;
    try {
      shown = describeUrl(new URL(location, config.url).href);
    } catch {
      shown = describeUrl(location);
    }
    shown = shown.length > 200 ? shown.slice(0, 200) + "…" : shown;
    details.location = shown;
    message +=
      `, a redirect to ${shown}; redirects are not followed: set ${NGINX_STATUS_URL} to the page itself`;
  } else if (code === 401) {
    message += config.authorization
      ? ": the credentials in the URL were rejected"
      : ": the page needs credentials (http://user:password@host/…)";
  } else if (code === 403) {
    message += ": access denied (check nginx's allow/deny for the agent's address)";
  } else if (code === 404) {
    message += ": no such page (is stub_status enabled at this path?)";
  }
  return failure(config.url, "http_status", message, details);
}

/** The `nginx` module. */
export const nginx: CheckModule<NginxConfig> = {
  name: "nginx",
  options: [{
    name: "status_url",
    kind: "url",
    doc:
      "URL of the stub_status page, `http://` or `https://`, e.g. `http://127.0.0.1/nginx_status`; credentials in it are secrets",
  }],
  parse,
  needs: (config) => ({ net: [config.net] }),
  load: () => Promise.resolve({ run }),
  secrets: (config) => config.secretValues,
};
