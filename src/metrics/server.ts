/**
 * The `METRICS_LISTEN` HTTP server: `GET /metrics` (the exposition),
 * `GET /healthz` (200 or 503 with a JSON body) and `GET /status` (the same
 * JSON as `AGENT_STATUS_FILE`, for `deno task status`). Nothing else: every
 * other path is 404, every other method 405.
 *
 * @module
 */

import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";

/** The health verdict `/healthz` serves. */
export interface Health {
  healthy: boolean;
  body: Record<string, unknown>;
}

/** What the server serves. */
export interface MetricsHandlers {
  metrics(): string;
  health(): Health;
  status(): unknown;
}

/** A running server. */
export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one picked for port 0). */
  port: number;
  close(): Promise<void>;
}

const JSON_TYPE = "application/json; charset=utf-8";

/** The response to one request (pure, for tests without a socket). */
export function handleMetricsRequest(request: Request, handlers: MetricsHandlers): Response {
  const { pathname } = new URL(request.url);
  const routes: Record<string, () => Response> = {
    "/metrics": () =>
      new Response(handlers.metrics(), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } }),
    "/healthz": () => {
      const health = handlers.health();
      return new Response(JSON.stringify(health.body) + "\n", {
        status: health.healthy ? 200 : 503,
        headers: { "content-type": JSON_TYPE, "cache-control": "no-store" },
      });
    },
    "/status": () =>
      new Response(JSON.stringify(handlers.status()) + "\n", {
        headers: { "content-type": JSON_TYPE, "cache-control": "no-store" },
      }),
    "/": () =>
      new Response("kozak agent: /metrics /healthz /status\n", {
        headers: { "content-type": "text/plain; charset=utf-8" },
      }),
  };
  const route = routes[pathname];
  if (!route) return new Response("not found\n", { status: 404 });
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  return route();
}

/**
 * Listens on `hostname:port`. A port that is taken, or an address that is
 * not this host's, comes back as a message for the operator, not a throw.
 */
export function startMetricsServer(
  listen: { hostname: string; port: number; entry: string },
  handlers: MetricsHandlers,
  onError: (error: unknown) => void,
): { ok: true; server: MetricsServer } | { ok: false; message: string } {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: listen.hostname,
      port: listen.port,
      onListen: () => {},
      onError: (error) => {
        onError(error);
        return new Response("internal error\n", { status: 500 });
      },
    }, (request) => handleMetricsRequest(request, handlers));
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "the port is already in use (another agent or exporter listens there): choose another port"
      : error instanceof Deno.errors.AddrNotAvailable
      ? "that address is not one of this host's"
      : (error as Error).message;
    return { ok: false, message: `METRICS_LISTEN: cannot listen on ${listen.entry}: ${why}` };
  }
  return {
    ok: true,
    server: {
      port: server.addr.port,
      close: () => server.shutdown(),
    },
  };
}
