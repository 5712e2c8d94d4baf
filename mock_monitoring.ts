/**
 * Mock monitoring server: accepts agent WebSocket connections, validates every
 * event against schema/event.schema.json, prints one line per event, says
 * `hello` and acks cumulatively (PROTOCOL.md), and serves `GET /events`,
 * `GET /stats` and `GET /` for tests and humans.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1,0.0.0.0,[::] \
 *   --allow-env=MOCK_PORT,MOCK_HOST,MOCK_TOKEN,MOCK_ACKS,MOCK_QUIET mock_monitoring.ts
 * ```
 *
 * @module
 */

import type { AgentEvent } from "./src/protocol.ts";
import { validateEvent } from "./src/schema.ts";

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
   * invalid events, bad frames and connection notes. Default: print nothing.
   */
  log?: (line: string, kind: "event" | "info") => void;
}

/** One received event as kept by the mock (and served by `GET /events`). */
export interface ReceivedEvent {
  event: unknown;
  valid: boolean;
  errors?: string[];
  /** Its `id` was seen before: a resend after a reconnect. */
  resend: boolean;
}

/** Counters served by `GET /stats`. `events` counts every received item, `invalid` the bad ones. */
export interface MockStats {
  connections_total: number;
  connections_open: number;
  events: number;
  invalid: number;
  resends: number;
  /** Sum of all seq gaps: events the agents created that never arrived. */
  missing: number;
}

/** A running mock; see {@link startMockMonitoring}. */
export interface MockMonitoring {
  port: number;
  /** `ws://host:port` to connect to. */
  url: string;
  /** Closes every socket (waiting for each) and the listener. */
  close(): Promise<void>;
  /** The kept events, oldest first (a copy). */
  events(): ReceivedEvent[];
  stats(): MockStats;
}

/** What {@link formatEventLine} adds after the event. */
export interface LineFlags {
  resend?: boolean;
  /** Events missing before this one (a seq gap). */
  gap?: number;
  /** seq went back to 1: the agent restarted. */
  restart?: boolean;
}

/**
 * One readable line for a valid event, e.g.
 * `06:28:04.123 web-1 #12 check tcp 127.0.0.1:22 ok 1.2ms`,
 * `06:28:04.124 web-1 #13 check postgres/orders-db 127.0.0.1:5432/orders ok 3.1ms` or
 * `06:28:04.123 web-1 #13 heartbeat up 30s queue 0 dropped 0 v0.1.0`.
 */
export function formatEventLine(event: AgentEvent, flags: LineFlags = {}): string {
  const parts = [event.timestamp.slice(11, 23), event.agent, `#${event.seq}`, event.type];
  if (event.type === "check") {
    // The instance, when it is not the module's own environment-configured one.
    const instance = event.instance && event.instance !== event.module ? `/${event.instance}` : "";
    parts.push(`${event.module}${instance}`, event.target, event.status);
    if (event.reason !== undefined) parts.push(event.reason);
    if (event.message !== undefined) parts.push(JSON.stringify(event.message));
    parts.push(`${event.duration_ms}ms`);
  } else if (event.type === "heartbeat") {
    const { uptime_s, queue, version, skipped_runs } = event;
    parts.push(`up ${Math.round(uptime_s)}s queue ${queue.size} dropped ${queue.dropped}`);
    if (skipped_runs > 0) parts.push(`skipped ${skipped_runs}`);
    parts.push(`v${version}`);
  }
  if (flags.gap) parts.push(`(gap: ${flags.gap} events missing before #${event.seq})`);
  if (flags.restart) parts.push("(agent restarted)");
  if (flags.resend) parts.push("(resend)");
  return oneLine(parts.join(" "));
}

/** Control characters (newlines from a hostile agent) must not split a line. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Compares without an early exit, so timing does not reveal the token. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i] ?? 0);
  return diff === 0;
}

const KEEP_EVENTS = 10_000; // what events() and GET /events return, newest last

/** Starts the mock; it listens before this returns. */
export function startMockMonitoring(options: MockOptions = {}): MockMonitoring {
  const { token, acks = true } = options;
  const log = options.log ?? (() => {});
  const kept: ReceivedEvent[] = [];
  const seenIds = new Set<string>(); // bounded below, oldest forgotten first
  const lastSeq = new Map<string, number>(); // agent → highest seq seen
  const sockets = new Map<WebSocket, Promise<void>>(); // open socket → its close
  const stats: MockStats = {
    connections_total: 0,
    connections_open: 0,
    events: 0,
    invalid: 0,
    resends: 0,
    missing: 0,
  };

  function record(item: ReceivedEvent): void {
    kept.push(item);
    if (kept.length > KEEP_EVENTS) kept.shift();
    stats.events++;
    if (!item.valid) stats.invalid++;
  }

  /** Handles one event object; returns its seq when it has a usable one. */
  function receive(value: unknown): number | undefined {
    const obj = Object(value) as Record<string, unknown>; // {} for null, a wrapper for 5
    const seq = Number.isSafeInteger(obj.seq) && (obj.seq as number) >= 1
      ? obj.seq as number
      : undefined;
    const id = typeof obj.id === "string" ? obj.id : undefined;
    const resend = id !== undefined && seenIds.has(id);
    if (id !== undefined && !resend) {
      seenIds.add(id);
      if (seenIds.size > 100_000) seenIds.delete(seenIds.values().next().value!);
    }
    if (resend) stats.resends++;
    const result = validateEvent(value);
    if (!result.ok) {
      record({ event: value, valid: false, errors: result.errors, resend });
      const agent = typeof obj.agent === "string" ? obj.agent : "?";
      const raw = truncate(JSON.stringify(value) ?? String(value), 300);
      log(oneLine(`INVALID event from ${agent}: ${result.errors.join("; ")} ${raw}`), "info");
      return seq;
    }
    const event = value as AgentEvent;
    const flags: LineFlags = { resend };
    if (!resend) {
      const last = lastSeq.get(event.agent);
      if (last !== undefined && event.seq === 1) flags.restart = true;
      else if (last !== undefined && event.seq > last + 1) flags.gap = event.seq - last - 1;
      if (flags.gap) stats.missing += flags.gap;
      if (last === undefined || event.seq > last || flags.restart) {
        lastSeq.set(event.agent, event.seq);
      }
    }
    record({ event, valid: true, resend });
    log(formatEventLine(event, flags), "event");
    return seq;
  }

  /**
   * One text frame: one event object or an array of them. Acks the last
   * event of the frame by its run and seq (and id): cumulative over what this
   * connection carried, and unambiguous when spooled events of an earlier
   * run come before new ones (PROTOCOL.md).
   */
  function onFrame(socket: WebSocket, data: unknown): void {
    let parsed: unknown;
    try {
      if (typeof data !== "string") throw new TypeError("binary frame");
      parsed = JSON.parse(data);
    } catch {
      const event = typeof data === "string" ? truncate(data, 300) : null;
      record({ event, valid: false, errors: ["not JSON"], resend: false });
      log("INVALID frame: not JSON", "info");
      return;
    }
    let last: { seq: number; run?: string; id?: string } | undefined;
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const seq = receive(item);
      if (seq === undefined) continue;
      const { run, id } = Object(item) as { run?: unknown; id?: unknown };
      last = {
        seq,
        ...(typeof run === "string" ? { run } : {}),
        ...(typeof id === "string" ? { id } : {}),
      };
    }
    if (acks && last !== undefined && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ack", ...last }));
    }
  }

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
    const n = ++stats.connections_total;
    stats.connections_open++;
    const closed = new Promise<void>((resolve) => {
      socket.onclose = (e) => {
        stats.connections_open--;
        sockets.delete(socket);
        log(`connection #${n} from ${remote} closed (code ${e.code})`, "info");
        resolve();
      };
    });
    sockets.set(socket, closed);
    socket.onopen = () => {
      log(`connection #${n} from ${remote} open`, "info");
      if (acks) socket.send(JSON.stringify({ type: "hello", v: 1, acks: true }));
    };
    socket.onerror = () => {}; // the close event follows; an abrupt disconnect is normal
    socket.onmessage = (e) => {
      try {
        onFrame(socket, e.data);
      } catch (err) {
        log(`internal error handling a frame: ${err}`, "info");
      }
    };
    return response;
  }

  const json = (value: unknown) =>
    new Response(JSON.stringify(value), { headers: { "content-type": "application/json" } });

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
    switch (new URL(req.url).pathname) {
      case "/events":
        return json(kept);
      case "/stats":
        return json(stats);
      case "/":
        return new Response(
          `mock monitoring: ${stats.connections_open} open connections, ${stats.events} events` +
            ` (${stats.invalid} invalid, ${stats.resends} resends)\nGET /events, GET /stats\n`,
        );
      default:
        return new Response("not found\n", { status: 404 });
    }
  });

  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `ws://${host}:${port}`,
    events: () => [...kept],
    stats: () => ({ ...stats }),
    close: () =>
      closing ??= (async () => {
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

/** Reads the MOCK_* variables; throws an Error naming the bad variable. */
export function mockOptionsFromEnv(
  get: (name: string) => string | undefined,
): MockOptions & { quiet: boolean } {
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.trim().toLowerCase();
    if (!raw) return fallback;
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    throw new Error(`${name} must be true or false, got ${JSON.stringify(get(name))}`);
  };
  const rawPort = get("MOCK_PORT")?.trim() || "8765";
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    throw new Error(`MOCK_PORT must be a whole number from 0 to 65535, got ${rawPort}`);
  }
  const hostname = (get("MOCK_HOST")?.trim() || "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  if (/\s|\//.test(hostname)) throw new Error(`MOCK_HOST is not a host name or address`);
  const token = get("MOCK_TOKEN") || undefined; // empty means no token; never printed
  return { port, hostname, token, acks: flag("MOCK_ACKS", true), quiet: flag("MOCK_QUIET", false) };
}

if (import.meta.main) {
  let options: ReturnType<typeof mockOptionsFromEnv>;
  try {
    options = mockOptionsFromEnv((name) => Deno.env.get(name));
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
  const stop = () => mock.close().finally(() => Deno.exit(0));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch { /* SIGTERM is not supported on Windows */ }
  }
}
