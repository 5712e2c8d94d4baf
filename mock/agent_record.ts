/**
 * One agent as the mock keeps it, and the view the API and page get of it.
 *
 * @module
 */

import type { HeartbeatEvent } from "../src/protocol.ts";
import type { CheckRecord } from "./check_record.ts";
import type { RunView } from "./seq_tracker.ts";
import type { AgentView } from "./views.ts";

/** An agent that has sent nothing for this many heartbeat intervals is marked "no data". */
export const NODATA_FACTOR = 3;

/** The mock's record of one agent; times in ms on the mock's clock. */
export interface AgentRecord {
  id: string;
  firstSeen: number;
  lastSeen: number;
  /** Set while the agent is marked "no data". */
  nodataSince?: number;
  heartbeat?: HeartbeatEvent;
  /** The timestamp and run of the newest event (by the agent's clock). */
  newestAt: string;
  run: string;
  counts: { events: number; resends: number; invalid: number; missing: number; restarts: number };
  /** Open connections that carried its events. */
  connections: Set<number>;
  /** By instance and target. */
  checks: Map<string, CheckRecord>;
}

/** A record for an agent first seen at `now`. */
export function newAgentRecord(id: string, now: number): AgentRecord {
  return {
    id,
    firstSeen: now,
    lastSeen: now,
    newestAt: "",
    run: "",
    counts: { events: 0, resends: 0, invalid: 0, missing: 0, restarts: 0 },
    connections: new Set(),
    checks: new Map(),
  };
}

/** How long the agent may be silent before "no data"; undefined before a heartbeat or when off. */
export function noDataLimitMs(record: AgentRecord): number | undefined {
  const interval = record.heartbeat?.interval_s;
  return interval !== undefined && interval > 0 ? NODATA_FACTOR * interval * 1000 : undefined;
}

/** The API's view of an agent. */
export function agentView(r: AgentRecord, runs: RunView[]): AgentView {
  const hb = r.heartbeat;
  const limitMs = noDataLimitMs(r);
  const checks = { total: r.checks.size, ok: 0, warn: 0, error: 0 };
  for (const c of r.checks.values()) checks[c.status]++;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    agent: r.id,
    connected: r.connections.size > 0,
    connections: r.connections.size,
    first_seen: iso(r.firstSeen),
    last_seen: iso(r.lastSeen),
    nodata: r.nodataSince !== undefined,
    ...(r.nodataSince === undefined ? {} : { nodata_since: iso(r.nodataSince) }),
    nodata_after_s: limitMs === undefined ? null : limitMs / 1000,
    version: hb?.version ?? null,
    uptime_s: hb?.uptime_s ?? null,
    interval_s: hb?.interval_s ?? null,
    skipped_runs: hb?.skipped_runs ?? null,
    queue: hb === undefined ? null : { ...hb.queue },
    delivery: hb?.delivery === undefined ? null : { ...hb.delivery },
    run: r.run,
    ...r.counts,
    runs,
    checks,
  };
}

/** Sets `key` as the most recently touched entry; forgets the least recently touched past `max`. */
export function touch<K, V>(
  map: Map<K, V>,
  key: K,
  value: V,
  max: number,
  onDrop?: (key: K) => void,
): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const first = map.keys().next().value!;
    map.delete(first);
    onDrop?.(first);
  }
}
