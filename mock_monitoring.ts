/**
 * Mock monitoring server: accepts agent WebSocket connections, validates every
 * event against schema/event.schema.json, prints one line per event, says
 * `hello` and acks (PROTOCOL.md), keeps per agent and per check state (mock/),
 * marks agents that went silent, and serves a live status page at `/`, the
 * JSON API (`/api/agents`, `/api/checks`, `/api/invalid`), `GET /events` and
 * `GET /stats`.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1,0.0.0.0,[::] \
 *   --allow-env=MOCK_PORT,MOCK_HOST,MOCK_TOKEN,MOCK_ACKS,MOCK_QUIET,MOCK_COLOR mock_monitoring.ts
 * ```
 *
 * @module
 */

import { MockState, type Receipt } from "./mock/state.ts";
import { LiveFeed } from "./mock/live.ts";
import { route } from "./mock/http.ts";
import { type MockEnvOptions, mockOptionsFromEnv, pageUrl, sameSecret } from "./mock/options.ts";
import {
  ANSI,
  formatBackLine,
  formatEventLine,
  formatInvalidLine,
  formatNoDataLine,
  type LineFlags,
  oneLine,
  type Paint,
  PLAIN,
} from "./mock/console.ts";
import type { AgentView, CheckView, InvalidView, MockStats, ReceivedEvent } from "./mock/views.ts";
import type { AgentEvent } from "./src/protocol.ts";

export { formatEventLine, type LineFlags, mockOptionsFromEnv };
export type { AgentView, CheckView, InvalidView, MockStats, ReceivedEvent };

/** Options for {@link startMockMonitoring}. */
export interface MockOptions {
  /** Port to listen on; 0 picks a free one. Default 8765. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. */
  hostname?: string;
  /** When set, the upgrade needs `Authorization: Bearer <token>`, else HTTP 401. */
  token?: string;
  /** Send `hello` with `acks: true` and an `ack` after every frame. Default true. */
  acks?: boolean;
  /**
   * Receives every output line: `kind` "event" for a valid event's line, "info" for
   * invalid events, bad frames, connection notes and agents going silent or coming
   * back. Default: print nothing.
   */
  log?: (line: string, kind: "event" | "info") => void;
  /** Colour the lines with ANSI codes. Default false. */
  color?: boolean;
  /** The mock's clock (ms since the epoch), for "last seen" and "no data". Default `Date.now`. */
  now?: () => number;
  /** How often silent agents are looked for. Default 250 ms. */
  tickMs?: number;
}

/** A running mock; see {@link startMockMonitoring}. */
export interface MockMonitoring {
  port: number;
  /** `ws://host:port` to connect to. */
  url: string;
  /** Closes every socket (waiting for each), the page streams and the listener. */
  close(): Promise<void>;
  /** The kept events, oldest first (a copy). */
  events(): ReceivedEvent[];
  stats(): MockStats;
  /** What `GET /api/agents` serves. */
  agents(): AgentView[];
  /** What `GET /api/checks` serves. */
  checks(): CheckView[];
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Starts the mock; it listens before this returns. */
export function startMockMonitoring(options: MockOptions = {}): MockMonitoring {
  const { token, acks = true } = options;
  const log = options.log ?? (() => {});
  const paint: Paint = options.color ? ANSI : PLAIN;
  const now = options.now ?? Date.now;
  const state = new MockState({ now });
  const feed = new LiveFeed();
  const sockets = new Map<WebSocket, Promise<void>>(); // open socket → its close

  /** Prints what one item changed and pushes it to the page. */
  function report(receipt: Receipt): void {
    const { item, seq } = receipt;
    if (receipt.back && receipt.agent) {
      log(formatBackLine(receipt.agent.agent, now(), receipt.back.silentMs, paint), "info");
    }
    if (item.valid) {
      const flags: LineFlags = { resend: seq.resend, gap: seq.gap, restart: seq.restart };
      log(formatEventLine(item.event as AgentEvent, flags, paint), "event");
    } else if (receipt.invalid?.errors[0]?.field === "(frame)") {
      log(paint.error("INVALID frame: not JSON"), "info");
    } else {
      const raw = truncate(JSON.stringify(item.event) ?? String(item.event), 300);
      log(formatInvalidLine(receipt.invalid?.agent, item.errors ?? [], raw, paint), "info");
    }
    const { agent, check, entry, invalid } = receipt;
    feed.publish("update", {
      now: new Date(now()).toISOString(),
      stats: state.stats(),
      ...(agent ? { agent } : {}),
      ...(check ? { check, entry } : {}),
      ...(invalid ? { invalid } : {}),
    });
  }

  function publishAgent(agent: AgentView): void {
    feed.publish("update", { now: new Date(now()).toISOString(), stats: state.stats(), agent });
  }

  /**
   * One text frame: one event object or an array of them. Acks the last
   * event of the frame by its run and seq (and id): cumulative over what this
   * connection carried, and unambiguous when spooled events of an earlier
   * run come before new ones (PROTOCOL.md).
   */
  function onFrame(socket: WebSocket, connection: number, data: unknown): void {
    let parsed: unknown;
    try {
      if (typeof data !== "string") throw new TypeError("binary frame");
      parsed = JSON.parse(data);
    } catch {
      report(state.receiveBadFrame(typeof data === "string" ? data : null));
      return;
    }
    let last: { seq: number; run?: string; id?: string } | undefined;
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      report(state.receive(item, connection));
      const { seq, run, id } = Object(item) as { seq?: unknown; run?: unknown; id?: unknown };
      if (!Number.isSafeInteger(seq) || (seq as number) < 1) continue;
      last = {
        seq: seq as number,
        ...(typeof run === "string" ? { run } : {}),
        ...(typeof id === "string" ? { id } : {}),
      };
    }
    if (acks && last !== undefined && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ack", ...last }));
    }
  }

  let connections = 0;
  function upgrade(req: Request, remote: string): Response {
    // Read every header before Deno.upgradeWebSocket (see runtime notes).
    const authorization = req.headers.get("authorization");
    if (token !== undefined && !sameSecret(authorization ?? "", `Bearer ${token}`)) {
      const why = authorization === null ? "no Authorization header" : "wrong bearer token";
      log(`rejected connection from ${remote}: ${why}`, "info");
      return new Response("unauthorized\n", {
        status: 401,
        headers: { "www-authenticate": "Bearer" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    const n = ++connections;
    state.opened(n);
    const closed = new Promise<void>((resolve) => {
      socket.onclose = (e) => {
        sockets.delete(socket);
        log(paint.dim(`connection #${n} from ${remote} closed (code ${e.code})`), "info");
        state.closed(n).forEach(publishAgent);
        resolve();
      };
    });
    sockets.set(socket, closed);
    socket.onopen = () => {
      log(paint.dim(`connection #${n} from ${remote} open`), "info");
      if (acks) socket.send(JSON.stringify({ type: "hello", v: 1, acks: true }));
    };
    socket.onerror = () => {}; // the close event follows; an abrupt disconnect is normal
    socket.onmessage = (e) => {
      try {
        onFrame(socket, n, e.data);
      } catch (err) {
        log(oneLine(`internal error handling a frame: ${err}`), "info");
      }
    };
    return response;
  }

  // Silent agents are looked for on a timer; each newly silent one is printed and pushed.
  let ticks = 0;
  const ticker = setInterval(() => {
    for (const change of state.tick()) {
      log(
        formatNoDataLine(change.agent.agent, now(), change.silentMs, change.limitMs, paint),
        "info",
      );
      publishAgent(change.agent);
    }
    if (++ticks % Math.max(1, Math.round(15_000 / (options.tickMs ?? 250))) === 0) feed.keepalive();
  }, options.tickMs ?? 250);

  const server = Deno.serve({
    port: options.port ?? 8765,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
    onError: (err) => {
      log(`internal error: ${err}`, "info");
      return new Response("internal error\n", { status: 500 });
    },
  }, (req, info) => {
    const remote = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") return upgrade(req, remote);
    if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
    return route(new URL(req.url), state, feed, now) ??
      new Response("not found\n", { status: 404 });
  });

  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `ws://${host}:${port}`,
    events: () => state.events(),
    stats: () => state.stats(),
    agents: () => state.agents(),
    checks: () => state.checks(),
    close: () =>
      closing ??= (async () => {
        clearInterval(ticker);
        feed.close(); // open page streams would keep the server from shutting down
        const waits = [...sockets.values()];
        for (const socket of sockets.keys()) {
          try {
            socket.close(1001, "server shutting down");
          } catch { /* still connecting: shutdown() ends it */ }
        }
        // A frozen client never answers the close handshake: wait at most 2 s for it.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = new Promise<void>((resolve) => timer = setTimeout(resolve, 2000));
        await Promise.race([Promise.all(waits), limit]);
        clearTimeout(timer);
        await server.shutdown();
      })(),
  };
}

if (import.meta.main) {
  let options: MockEnvOptions;
  try {
    options = mockOptionsFromEnv((name) => Deno.env.get(name), {
      isTerminal: Deno.stdout.isTerminal(),
      noColor: Deno.noColor,
    });
  } catch (err) {
    console.error(`mock monitoring: ${(err as Error).message}`);
    Deno.exit(2);
  }
  let mock: MockMonitoring;
  try {
    mock = startMockMonitoring({
      ...options,
      log: (line, kind) => {
        if (kind === "info" || !options.quiet) console.log(line);
      },
    });
  } catch (err) {
    console.error(`mock monitoring: cannot listen on ${options.hostname}:${options.port}: ${err}`);
    Deno.exit(1);
  }
  console.log(`mock monitoring listening on ${mock.url}`);
  console.log(`mock monitoring page at ${pageUrl(options.hostname ?? "127.0.0.1", mock.port)}`);
  const stop = () => mock.close().finally(() => Deno.exit(0));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch { /* SIGTERM is not supported on Windows */ }
  }
}
