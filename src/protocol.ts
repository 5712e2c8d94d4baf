/**
 * Wire types of the event protocol and the one place events are built.
 * Shared by the agent and the mock monitoring server; see PROTOCOL.md and
 * schema/event.schema.json.
 *
 * @module
 */

import type { Details, Reason, Status } from "./check.ts";

/** Protocol version carried in every event's `v`. */
export const PROTOCOL_VERSION = 1;

/** Fields every event has. */
export interface BaseEvent {
  v: 1;
  type: string;
  id: string;
  seq: number;
  agent: string;
  /** The agent process start that created the event; `seq` counts per run. */
  run: string;
  timestamp: string;
}

/** The result of one check against one target. */
export interface CheckEvent extends BaseEvent {
  type: "check";
  module: string;
  /** The configured instance's name. */
  instance: string;
  /** The instance's labels, `{}` when none. */
  labels: Record<string, string>;
  target: string;
  status: Status;
  reason?: Reason;
  message?: string;
  duration_ms: number;
  details: Details;
}

/**
 * The outgoing queue, in a heartbeat: `size` and `dropped` (the contract's),
 * and (extension) what is in flight, its bytes, the spool's bytes on disk,
 * the drops by cause and the corrupt spool records skipped at start.
 */
export interface HeartbeatQueue {
  size: number;
  dropped: number;
  in_flight?: number;
  bytes?: number;
  spooled_bytes?: number;
  dropped_overflow?: number;
  dropped_age?: number;
  corrupt_skipped?: number;
}

/** Delivery counters since start, in a heartbeat (extension). */
export interface HeartbeatDelivery {
  /** Events written to a socket, resends included. */
  sent: number;
  /** Confirmed by the server's acks. */
  acked: number;
  /** Sent again after a reconnect or a restart. */
  resent: number;
  /** Written to a server that does not acknowledge: delivery unconfirmed. */
  written_unconfirmed: number;
  reconnects: number;
  /** When the last event was written (RFC 3339), or null. */
  last_sent_at: string | null;
}

/** Proof of life, sent every `HEARTBEAT_INTERVAL_SECONDS`. */
export interface HeartbeatEvent extends BaseEvent {
  type: "heartbeat";
  uptime_s: number;
  queue: HeartbeatQueue;
  /** Extension: delivery counters. */
  delivery?: HeartbeatDelivery;
  version: string;
  /** Extension: runs skipped because the previous run of that check was still going. */
  skipped_runs: number;
  /** The heartbeat interval in seconds, so a receiver knows when the agent went silent. */
  interval_s: number;
}

export type AgentEvent = CheckEvent | HeartbeatEvent;

/** What a check run produced, before it becomes an event. */
export interface CheckOutcome {
  module: string;
  /** The instance's name; default the module's (the environment-configured instance). */
  instance?: string;
  /** Default `{}`. */
  labels?: Record<string, string>;
  target: string;
  status: Status;
  reason?: Reason;
  message?: string;
  duration_ms: number;
  details?: Details;
}

/**
 * Messages the monitoring server may send to the agent (extension). A server
 * that sends none of them still works: events then leave the queue once written.
 */
export type ServerMessage =
  /** Sent right after the upgrade; `acks: true` promises {@link AckMessage}s. */
  | { type: "hello"; v: 1; acks: boolean }
  /**
   * The event it names (by `run` and `seq`, or by `id`) and every event sent
   * before it on this connection were received and may be forgotten. An ack
   * with `seq` alone names the most recently sent event with that seq.
   */
  | { type: "ack"; seq?: number; run?: string; id?: string };

/** Options for {@link EventFactory}. */
export interface EventFactoryOptions {
  agent: string;
  /** This process start's id; default a new random UUID. */
  run?: string;
  /** Wall clock in ms since the epoch; default `Date.now`. */
  now?: () => number;
  /** Unique id source; default `crypto.randomUUID`. */
  newId?: () => string;
}

/**
 * Builds events: assigns `id`, the running `seq` (1 for the first event) and
 * the timestamp. One factory per running agent.
 *
 * @example
 * ```ts
 * import { EventFactory } from "./protocol.ts";
 * const events = new EventFactory({ agent: "web-1" });
 * const e = events.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1 });
 * console.assert(e.seq === 1 && e.type === "check");
 * ```
 */
export class EventFactory {
  #seq = 0;
  readonly #agent: string;
  readonly run: string;
  readonly #now: () => number;
  readonly #newId: () => string;

  constructor(options: EventFactoryOptions) {
    this.#agent = options.agent;
    this.run = options.run ?? crypto.randomUUID();
    this.#now = options.now ?? Date.now;
    this.#newId = options.newId ?? (() => crypto.randomUUID());
  }

  /** The seq of the last event built, 0 before the first. */
  get lastSeq(): number {
    return this.#seq;
  }

  #base<T extends string>(type: T): BaseEvent & { type: T } {
    this.#seq += 1;
    return {
      v: PROTOCOL_VERSION,
      type,
      id: this.#newId(),
      seq: this.#seq,
      agent: this.#agent,
      run: this.run,
      timestamp: new Date(this.#now()).toISOString(),
    };
  }

  /** A `check` event; a not-ok outcome without a message gets a generic one. */
  check(outcome: CheckOutcome): CheckEvent {
    const event: CheckEvent = {
      ...this.#base("check"),
      module: outcome.module,
      instance: outcome.instance ?? outcome.module,
      labels: { ...outcome.labels },
      target: outcome.target,
      status: outcome.status,
      // NaN/Infinity would serialize as null and break the schema: report 0 instead.
      duration_ms: Number.isFinite(outcome.duration_ms)
        ? Math.max(0, Math.round(outcome.duration_ms * 10) / 10)
        : 0,
      details: outcome.details ?? {},
    };
    // An empty message is as good as none (the schema requires a non-empty one).
    const message = outcome.message?.trim() ? outcome.message : undefined;
    if (outcome.status !== "ok") {
      event.reason = outcome.reason ?? "internal";
      event.message = message ?? `${outcome.module} check is ${outcome.status}`;
    } else if (message !== undefined) {
      event.message = message;
    }
    return event;
  }

  /** A `heartbeat` event. */
  heartbeat(
    fields: {
      uptime_s: number;
      queue: HeartbeatQueue;
      delivery?: HeartbeatDelivery;
      version: string;
      skipped_runs: number;
      interval_s: number;
    },
  ): HeartbeatEvent {
    // Pick the fields: a wider object passed in must not add or override fields.
    const { uptime_s, queue, delivery, version, skipped_runs, interval_s } = fields;
    return {
      ...this.#base("heartbeat"),
      uptime_s,
      queue: { ...queue },
      ...(delivery ? { delivery: { ...delivery } } : {}),
      version,
      skipped_runs,
      interval_s,
    };
  }
}

/** Parses a message from the server; anything unknown gives `undefined`. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (m.type === "hello" && typeof m.acks === "boolean") {
    return { type: "hello", v: 1, acks: m.acks };
  }
  if (m.type === "ack") {
    const seq = Number.isSafeInteger(m.seq) && (m.seq as number) >= 0 ? m.seq as number : undefined;
    const run = typeof m.run === "string" && m.run !== "" ? m.run : undefined;
    const id = typeof m.id === "string" && m.id !== "" ? m.id : undefined;
    if (seq === undefined && id === undefined) return undefined;
    return {
      type: "ack",
      ...(seq !== undefined ? { seq } : {}),
      ...(run !== undefined ? { run } : {}),
      ...(id !== undefined ? { id } : {}),
    };
  }
  return undefined;
}
