/**
 * One run of the nginx check: one GET of the stub_status page over a fresh
 * HTTP client (closed at the end of the run, so no pooled connection
 * outlives it), redirects reported and not followed, at most
 * {@link MAX_BODY_BYTES} of body read, the page parsed strictly. Loaded by
 * `nginx.load()` only when the module is enabled.
 *
 * @module
 */

import { type CheckResult, Failure, type RunContext } from "../../src/check.ts";
import { describeUrl } from "../../src/config_values.ts";
import { describeBytes } from "../common/bytes.ts";
import { fetchErrorDetail, fetchFailure } from "../common/fetch_errors.ts";
import { readCappedBody } from "../common/http_body.ts";
import { NGINX_STATUS_URL, type NginxConfig } from "./config.ts";
import { metrics } from "./metrics.ts";
import { parseStubStatus, StubStatusError } from "./stub_status.ts";

/** The most body bytes a run reads; a real stub_status page is about 100 bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** One GET of the status page: its values, or the failure that stopped it. */
export async function run(
  config: NginxConfig,
  { signal, memory, phase = () => {} }: RunContext,
): Promise<CheckResult> {
  const target = config.url;
  // A client of its own per run: closing it closes the connection, so no
  // pooled socket outlives the run (also after a timeout).
  const client = Deno.createHttpClient({});
  try {
    phase("request");
    let response: Response;
    try {
      const headers: Record<string, string> = { Accept: "text/plain" };
      if (config.authorization) headers.Authorization = config.authorization;
      response = await fetch(config.url, { signal, redirect: "manual", headers, client });
    } catch (error) {
      throw fetchFailure(error, config.net, signal);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw httpStatusFailure(config, response);
    }

    phase("body");
    const body = await readBody(target, response, signal);
    const atMs = performance.now();
    const { details, message } = metrics(parsePage(target, body), atMs, memory);
    return message ? { target, status: "ok", message, details } : { target, status: "ok", details };
  } catch (error) {
    if (error instanceof Failure) return error.result(target);
    throw error;
  } finally {
    client.close();
  }
}

/** The whole body, or the failure (phase `body`) that cut it short. */
async function readBody(target: string, response: Response, signal: AbortSignal) {
  const body = await readCappedBody(response, MAX_BODY_BYTES, signal);
  switch (body.kind) {
    case "complete":
      return body.bytes;
    case "aborted":
      throw new Failure(
        "timeout",
        `timed out reading the body of ${target} (${body.bytes} bytes so far)`,
        { phase: "body" },
      );
    case "too_large":
      throw new Failure(
        "protocol",
        `the body of ${target} is larger than ${MAX_BODY_BYTES} bytes: not a stub_status page`,
        { phase: "body", body_bytes: body.bytes },
      );
    case "failed":
      throw new Failure(
        "protocol",
        `the body of ${target} was cut off after ${body.bytes} bytes: ${
          fetchErrorDetail(body.error)
        }`,
        { phase: "body" },
      );
  }
}

/** The page's values; a body that is not a stub_status page is a `protocol` failure. */
function parsePage(target: string, bytes: Uint8Array) {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Failure(
      "protocol",
      `the body of ${target} is not text (${describeBytes(bytes)}): not a stub_status page`,
    );
  }
  try {
    return parseStubStatus(text);
  } catch (error) {
    if (!(error instanceof StubStatusError)) throw error;
    throw new Failure("protocol", `${target} is not a stub_status page: ${error.message}`);
  }
}

/** Any status but 200, with what it most likely means for a stub_status page. */
function httpStatusFailure(config: NginxConfig, response: Response): Failure {
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
  return new Failure("http_status", message, details);
}
