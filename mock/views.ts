/**
 * What the mock's JSON API (`GET /api/agents`, `GET /api/checks`,
 * `GET /api/invalid`) and its live stream serve: plain JSON objects, the same
 * data the page shows. Times are RFC 3339 strings; durations are numbers.
 *
 * @module
 */

import type { RunView } from "./seq_tracker.ts";

/** One agent as the page's agent table shows it. */
export interface AgentView {
  agent: string;
  /** A WebSocket that carried this agent's events is open now. */
  connected: boolean;
  /** How many such WebSockets are open. */
  connections: number;
  /** When the mock first and last received an event from it (the mock's clock). */
  first_seen: string;
  last_seen: string;
  /** Nothing arrived for `nodata_after_s`: 3 × the heartbeat interval. */
  nodata: boolean;
  /** When the agent was marked "no data"; absent while it is not. */
  nodata_since?: string;
  /** 3 × `interval_s` of its last heartbeat; null before a heartbeat or when heartbeats are off. */
  nodata_after_s: number | null;
  /** From its last heartbeat (null before the first one). */
  version: string | null;
  uptime_s: number | null;
  interval_s: number | null;
  skipped_runs: number | null;
  /** The heartbeat's `queue` object as sent (`size`, `dropped`, and whatever a newer agent adds). */
  queue: Record<string, unknown> | null;
  /** The heartbeat's `delivery` object as sent (an extension of newer agents), or null. */
  delivery: Record<string, unknown> | null;
  /** The run of the newest event. */
  run: string;
  /** Events received (valid, not counting resends). */
  events: number;
  resends: number;
  /** Invalid events that named this agent. */
  invalid: number;
  /** Events created by the agent that never arrived, summed over its runs. */
  missing: number;
  /** Times the agent started a new run while the mock watched. */
  restarts: number;
  runs: RunView[];
  /** How many of its checks are in each status. */
  checks: { total: number; ok: number; warn: number; error: number };
}

/** One check event as kept in a check's history. */
export interface HistoryEntry {
  id: string;
  seq: number;
  run: string;
  /** The event's own timestamp (the agent's clock). */
  timestamp: string;
  /** When the mock received it. */
  received_at: string;
  status: "ok" | "warn" | "error";
  reason?: string;
  message?: string;
  duration_ms: number;
  details: Record<string, unknown>;
}

/** One check (an instance's target) of one agent: the latest result and recent history. */
export interface CheckView {
  agent: string;
  module: string;
  instance: string;
  target: string;
  labels: Record<string, string>;
  status: "ok" | "warn" | "error";
  reason?: string;
  message?: string;
  duration_ms: number;
  /** Timestamp of the latest event. */
  timestamp: string;
  /** Timestamp of the first event of the current status and reason. */
  changed_at: string;
  /** Events received for this check. */
  events: number;
  /** The most recent events, oldest first, at most the history size (100). */
  history: HistoryEntry[];
}

/** One invalid item (an event failing the schema, or a frame that is not JSON). */
export interface InvalidView {
  received_at: string;
  /** The `agent` field when it was a string. */
  agent?: string;
  /** Each problem split into the field (a JSON pointer, or `(event)`/`(frame)`) and the reason. */
  errors: { field: string; reason: string }[];
  /** The raw item, shortened. */
  raw: string;
}

/** Counters served by `GET /stats`. `events` counts every received item, `invalid` the bad ones. */
export interface MockStats {
  connections_total: number;
  connections_open: number;
  events: number;
  invalid: number;
  resends: number;
  /** Events the agents created that never arrived (seq gaps, per agent and run). */
  missing: number;
}

/** One received item as kept by the mock (and served by `GET /events`). */
export interface ReceivedEvent {
  event: unknown;
  valid: boolean;
  errors?: string[];
  /** Its `id` was seen before: a resend after a reconnect. */
  resend: boolean;
}
