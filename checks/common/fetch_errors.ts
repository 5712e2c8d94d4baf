/**
 * Names why Deno's `fetch` failed before a response arrived, for every check
 * that speaks HTTP (nginx, http): one {@link Failure} with a reason, a
 * readable message naming `host:port`, and the phase the error belongs to.
 * fetch wraps the real cause in "fetch failed" / "error sending request for
 * url (…): client error (Connect): …"; the messages quote only the cause.
 *
 * @module
 */

import { Failure, type Phase, type Reason } from "../../src/check.ts";
import { classifyNetworkError } from "./net_errors.ts";

/**
 * The inner reason of a fetch error (or of a body stream's error), without
 * the "fetch failed" and "error sending request for url (…)" wrappers.
 *
 * @example
 * ```ts
 * import { fetchErrorDetail } from "./fetch_errors.ts";
 * const error = new TypeError("fetch failed", {
 *   cause: new Error("error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)"),
 * });
 * console.assert(fetchErrorDetail(error) === "tcp connect error: Connection refused (os error 111)");
 * ```
 */
export function fetchErrorDetail(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    parts.push(e.message);
  }
  const text = parts.filter((p) => p !== "fetch failed").join(": ") || String(error);
  return (/client error \([A-Za-z]+\): (.*)$/s.exec(text)?.[1] ?? text).trim();
}

const DNS = /dns error|failed to lookup address|name or service not known|no address associated/i;
const NOT_HTTP =
  /connection closed before message completed|invalid HTTP|invalid (status|header)|parse|unexpected (eof|end of file)|message head is too large/i;
const TLS = /certificate|\btls\b|ssl|handshake|corrupt message|peer is incompatible|alert/i;

function failed(reason: Reason, message: string, phase: Phase): Failure {
  return new Failure(reason, message, { phase });
}

/**
 * The failure of a `fetch` that gave no response. `net` is the `host:port`
 * the URL dials, as messages name it. An aborted `signal` is always a
 * timeout (phase `request`: connect, TLS and headers are one wait in fetch);
 * otherwise the phase is where the error arose: `dns`, `connect` (refused,
 * permission), `tls`, or `request` (the answer was not HTTP).
 */
export function fetchFailure(error: unknown, net: string, signal: AbortSignal): Failure {
  if (signal.aborted) {
    return failed(
      "timeout",
      `timed out waiting for ${net} to answer (connect, TLS handshake or response headers)`,
      "request",
    );
  }
  if (error instanceof Deno.errors.NotCapable) {
    return failed(
      "permission",
      `the agent lacks the network permission for ${net}: ${(error as Error).message}`,
      "connect",
    );
  }
  const detail = fetchErrorDetail(error);
  if (DNS.test(detail)) {
    return failed("dns", `cannot resolve the host of ${net}: ${detail}`, "dns");
  }
  if (/connection refused/i.test(detail)) {
    return failed("refused", `cannot connect to ${net}: connection refused`, "connect");
  }
  // hyper's word for bytes that arrived before it had written the request: a
  // server that talks first (SSH, MySQL, SMTP …) whose greeting got there
  // before the client's first write, which a busy client makes likely.
  if (/received unexpected message from connection/i.test(detail)) {
    return failed(
      "protocol",
      `${net} did not answer with HTTP: it sent data before the request (a server that talks first, such as SSH or MySQL?)`,
      "request",
    );
  }
  // rustls read a first record that is not TLS at all: "HTTP/1.1 400 …" from
  // a plain HTTP port (or another protocol's bytes); its own words say nothing.
  if (/corrupt message of type InvalidContentType/i.test(detail)) {
    return failed(
      "tls",
      `TLS with ${net} failed: the server does not speak TLS (it answered plain HTTP?)`,
      "tls",
    );
  }
  if (TLS.test(detail)) return failed("tls", `TLS with ${net} failed: ${detail}`, "tls");
  if (NOT_HTTP.test(detail)) {
    return failed("protocol", `${net} did not answer with HTTP: ${detail}`, "request");
  }
  const kind = classifyNetworkError(error, signal);
  return failed(kind.reason, `request to ${net} failed: ${detail}`, "request");
}
