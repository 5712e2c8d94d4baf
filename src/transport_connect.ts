/**
 * One WebSocket connect attempt of the transport, bounded by a timeout (Deno's
 * WebSocket has no handshake timeout of its own) and by the transport's stop
 * signal.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Opens a WebSocket; injectable so tests can count or refuse connections. */
export type SocketFactory = (url: string, headers: Record<string, string>) => WebSocket;

/** The real factory: Deno's WebSocket with request headers. */
export const defaultSocketFactory: SocketFactory = (url, headers) =>
  // Deno's WebSocket takes headers as a second-argument option (not in the DOM type).
  new WebSocket(url, { headers } as unknown as string[]);

/** What {@link connectOnce} needs. */
export interface ConnectOptions {
  url: URL;
  /** Sent as `Authorization: Bearer …` on the upgrade. */
  token?: string;
  socketFactory: SocketFactory;
  clock: Clock;
  timeoutMs: number;
  /** Aborting it abandons the attempt at once. */
  signal: AbortSignal;
}

/**
 * What the socket received between its open event and the moment its session
 * took it over. Deno dispatches a message that is already there right after
 * the open event, within the same turn: without a listener from the open
 * event on, a server's `hello` sent at once can be lost.
 */
export interface EarlyEvents {
  /** Text (string) and binary messages, in order; the session decides what to make of them. */
  messages: unknown[];
  close?: { code: number; reason: string };
}

/** An open socket (with what it received meanwhile), or why there is none. */
export type ConnectResult =
  | { ok: true; socket: WebSocket; early: EarlyEvents }
  | {
    ok: false;
    error: string;
    /** The HTTP status the server refused the upgrade with, when it answered one. */
    status?: number;
  };

/**
 * The HTTP status in Deno's message for a refused upgrade ("NetworkError:
 * failed to connect to WebSocket: Invalid status code: 401"), if any: the
 * error event is the only place Deno's WebSocket reports it.
 */
export function upgradeStatus(message: string): number | undefined {
  const match = /Invalid status code:? (\d{3})\b/i.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** Opens one socket; resolves (never rejects) once it is open or the attempt failed. */
export function connectOnce(options: ConnectOptions): Promise<ConnectResult> {
  const { url, token, clock, signal } = options;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  if (signal.aborted) return Promise.resolve({ ok: false, error: "agent stopping" });
  let socket: WebSocket;
  try {
    socket = options.socketFactory(url.href, headers);
  } catch (error) {
    return Promise.resolve({ ok: false, error: String((error as Error)?.message ?? error) });
  }
  return new Promise((resolve) => {
    const early: EarlyEvents = { messages: [] };
    let done = false;
    const finish = (result: ConnectResult) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.onopen = socket.onerror = socket.onclose = null;
      if (!result.ok) {
        try {
          socket.close();
        } catch { /* the attempt is being abandoned anyway */ }
      }
      resolve(result);
    };
    const fail = (error: string) => finish({ ok: false, error, status: upgradeStatus(error) });
    const onAbort = () => fail("agent stopping");
    const timer = clock.setTimeout(
      () => fail(`no answer within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    socket.onopen = () => {
      finish({ ok: true, socket, early });
      socket.onmessage = (e) => early.messages.push(e.data);
      socket.onclose = (e) => early.close = { code: e.code, reason: e.reason };
    };
    socket.onerror = (e) => fail((e as ErrorEvent).message || "connection failed");
    socket.onclose = (e) => fail(`closed during the handshake (code ${e.code})`);
  });
}
