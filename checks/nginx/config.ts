/**
 * The nginx module's configuration: `NGINX_STATUS_URL` parsed and checked
 * into what a run needs (the URL without credentials, the `host:port` to
 * allow, the Basic header) and every form of the credentials to redact.
 *
 * @module
 */

import type { EnvReader, InstanceSpec } from "../../src/check.ts";
import { optional } from "../../src/config_values.ts";
import { parseHttpUrl, shownUrl } from "../common/http_url.ts";

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

/** Parses and checks the URL; errors never quote the user info. */
export function parseStatusUrl(raw: string): NginxConfig {
  const parsed = parseHttpUrl(raw, "http://127.0.0.1/nginx_status");
  if (BLOCKED_PORTS.has(parsed.port)) {
    throw new Error(
      `port ${parsed.port} is one that fetch refuses to use (the Fetch standard's bad ports)`,
    );
  }
  return {
    url: parsed.url.href,
    net: parsed.net,
    ...(parsed.authorization ? { authorization: parsed.authorization } : {}),
    secretValues: parsed.secretValues,
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
    const shown = shownUrl(raw, NGINX_STATUS_URL);
    return [{
      name: shown,
      targets: [shown],
      ok: false,
      error: `${NGINX_STATUS_URL}: ${(error as Error).message}`,
    }];
  }
}
