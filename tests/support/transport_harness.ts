/**
 * Test support for the transport tests: a {@link Transport} on a
 * {@link ManualClock} (time moves only when the test says so) against a real
 * socket, with its log lines, connect attempts and sockets recorded.
 *
 * Real I/O still takes real time, so the waits here poll against a real
 * deadline; virtual time moves only by the step the caller gives (0 by
 * default: "this must happen without any timer firing").
 *
 * @module
 */

import assert from "node:assert/strict";
import type { LogFields, Logger } from "../../src/log.ts";
import { EventQueue } from "../../src/queue.ts";
import { type SocketFactory, Transport, type TransportOptions } from "../../src/transport.ts";
import { ManualClock } from "./manual_clock.ts";

export const TOKEN = "t0ken-for-tests";

/** The timings every harness transport gets unless a test overrides them. */
export const TIMINGS = {
  connectTimeoutMs: 300,
  ackTimeoutMs: 500,
  helloWaitMs: 200,
  backoff: { baseMs: 50, maxMs: 200 },
  // No quick retries unless a test asks for them: the backoff is what these tests time.
  retry: { afterSessionMs: 50, fastMs: 30, fastWindowMs: 0 },
};

/** One recorded log line. */
export interface LogLine {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every line. */
export function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

/** The run of the events these tests queue. */
export const RUN = "test-run";

/** A queue item as the agent would queue it (opaque JSON with its run and seq). */
export const event = (seq: number) => ({
  seq,
  run: RUN,
  id: `id-${seq}`,
  data: JSON.stringify({ seq, run: RUN, id: `id-${seq}`, type: "check", n: seq * 7 }),
});

/** Queues events `from`..`to`; none may be dropped. */
export function pushEvents(queue: EventQueue, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) assert.equal(queue.push(event(seq)), 0);
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A transport under test and what it did. */
export interface Harness {
  clock: ManualClock;
  transport: Transport;
  queue: EventQueue;
  lines: LogLine[];
  /** The headers of every connect attempt, and the virtual time it was made. */
  attempts: Array<{ at: number; headers: Record<string, string> }>;
  /** Every socket the transport opened, in order. */
  sockets: WebSocket[];
}

/**
 * A transport with {@link TIMINGS}, the test token, no backoff jitter
 * (`random` 0.5), and a recording factory wrapped around `socketFactory`.
 */
export function harness(url: URL, overrides: Partial<TransportOptions> = {}): Harness {
  const clock = new ManualClock();
  const { log, lines } = capturingLogger();
  const queue = overrides.queue ?? new EventQueue(1_000, "drop-oldest");
  const attempts: Harness["attempts"] = [];
  const sockets: WebSocket[] = [];
  const inner: SocketFactory = overrides.socketFactory ??
    ((u, headers) => new WebSocket(u, { headers } as unknown as string[]));
  const socketFactory: SocketFactory = (u, headers) => {
    attempts.push({ at: clock.now(), headers: { ...headers } });
    const socket = inner(u, headers);
    sockets.push(socket);
    return socket;
  };
  const transport = new Transport({
    url,
    token: TOKEN,
    queue,
    clock,
    log,
    random: () => 0.5,
    ...TIMINGS,
    ...overrides,
    socketFactory,
  });
  return { clock, transport, queue, lines, attempts, sockets };
}

/** Options of {@link until} and {@link holds}. */
export interface DriveOptions {
  /** Virtual ms to advance per round; default 0 (only timers already due fire). */
  stepMs?: number;
  /** Shown when the wait fails. */
  state?: () => unknown;
  /** Real-time bound of the whole wait; default 5 s. */
  realMs?: number;
}

function describe(state?: () => unknown): string {
  const s = state?.();
  return s === undefined ? "" : `; state: ${JSON.stringify(s)}`;
}

/** Drives the clock by `stepMs` per round until `cond` holds; fails after `realMs` of real time. */
export async function until(
  clock: ManualClock,
  what: string,
  cond: () => boolean,
  { stepMs = 0, state, realMs = 5_000 }: DriveOptions = {},
): Promise<void> {
  const deadline = performance.now() + realMs;
  while (!cond()) {
    if (performance.now() > deadline) {
      throw new Error(`gave up waiting for ${what} (virtual ${clock.now()} ms)${describe(state)}`);
    }
    await clock.advance(stepMs);
  }
}

/** Advances the clock by `forMs` in steps (default 10 ms), asserting `cond` all along. */
export async function holds(
  clock: ManualClock,
  what: string,
  forMs: number,
  cond: () => boolean,
  { stepMs = 10, state }: DriveOptions = {},
): Promise<void> {
  const until = clock.now() + forMs;
  for (;;) {
    assert.ok(cond(), `expected ${what} to hold (virtual ${clock.now()} ms)${describe(state)}`);
    if (clock.now() >= until) return;
    await clock.advance(Math.min(stepMs, until - clock.now()));
  }
}

/** Resolves a promise's state into a flag, so {@link until} can wait for it. */
export function track<T>(promise: Promise<T>): { done: boolean; value?: T; promise: Promise<T> } {
  const tracked: { done: boolean; value?: T; promise: Promise<T> } = { done: false, promise };
  promise.then((value) => {
    tracked.done = true;
    tracked.value = value;
  });
  return tracked;
}

/**
 * Closes the transport, driving the clock by `stepMs` meanwhile; returns the
 * virtual ms it took. With the default 0, close() must finish without any
 * timer firing (a clean close needs only I/O).
 */
export async function closeTransport(h: Harness, stepMs = 0): Promise<number> {
  const started = h.clock.now();
  const closing = track(h.transport.close());
  await until(h.clock, "Transport.close()", () => closing.done, { stepMs });
  return h.clock.now() - started;
}

/** The log lines whose message starts with `prefix` (at `level`, when given). */
export function logged(h: Harness, prefix: string, level?: string): LogLine[] {
  return h.lines.filter((l) =>
    l.message.startsWith(prefix) && (level === undefined || l.level === level)
  );
}
