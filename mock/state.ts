/**
 * The mock's memory: per agent and per check the latest event and a bounded
 * history, seq gaps per (agent, run), resends, "no data" detection from each
 * agent's heartbeat interval, and the invalid items with their reasons. Pure
 * apart from the clock it is given, so tests drive time by hand.
 *
 * @module
 */

import type { AgentEvent, CheckEvent, HeartbeatEvent } from "../src/protocol.ts";
import { validateEvent } from "../src/schema.ts";
import {
  type AgentRecord,
  agentView,
  newAgentRecord,
  noDataLimitMs,
  touch,
} from "./agent_record.ts";
import { CheckRecord, compareChecks } from "./check_record.ts";
import { SeqTracker, type SeqVerdict } from "./seq_tracker.ts";
import type {
  AgentView,
  CheckView,
  HistoryEntry,
  InvalidView,
  MockStats,
  ReceivedEvent,
} from "./views.ts";

/** Options for {@link MockState}; every bound has a default. */
export interface MockStateOptions {
  /** The mock's clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Events kept per check. Default 100. */
  historySize?: number;
  /** Invalid items kept. Default 100. */
  invalidKept?: number;
  /** Items served by `GET /events`. Default 10,000. */
  eventsKept?: number;
  /** Agents kept, the longest silent forgotten first. Default 1,000. */
  maxAgents?: number;
  /** Checks kept per agent, the longest silent forgotten first. Default 1,000. */
  maxChecksPerAgent?: number;
}

/** What one item changed; the server prints and pushes it. */
export interface Receipt {
  item: ReceivedEvent;
  /** The verdict on its seq (all zero for items without a usable one). */
  seq: SeqVerdict;
  /** The agent it came from, as it is now (absent for an invalid item of an unknown agent). */
  agent?: AgentView;
  /** The check it updated, without history, and the entry added to that history. */
  check?: Omit<CheckView, "history">;
  entry?: HistoryEntry;
  invalid?: InvalidView;
  /** The agent had been marked "no data" and is back; how long it was silent. */
  back?: { silentMs: number };
}

/** An agent marked or unmarked "no data" by {@link MockState.tick}. */
export interface NoDataChange {
  agent: AgentView;
  silentMs: number;
  limitMs: number;
}

const NO_SEQ: SeqVerdict = { resend: false, gap: 0, restart: false, missingDelta: 0 };
/** `/status must be …` → field `/status`, reason `must be …`. */
function splitError(error: string): { field: string; reason: string } {
  const space = error.indexOf(" ");
  return space > 0 && /^(\/|\()/.test(error)
    ? { field: error.slice(0, space), reason: error.slice(space + 1) }
    : { field: "(event)", reason: error };
}

function shorten(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The mock's state; feed it with {@link receive}, {@link opened}, {@link closed}, {@link tick}. */
export class MockState {
  readonly #now: () => number;
  readonly #opts: Required<Omit<MockStateOptions, "now">>;
  readonly #agents = new Map<string, AgentRecord>();
  readonly #seqs = new SeqTracker();
  readonly #connections = new Map<number, Set<string>>(); // open connection → agents it carried
  readonly #invalid: InvalidView[] = [];
  readonly #kept: ReceivedEvent[] = [];
  readonly #stats: MockStats = {
    connections_total: 0,
    connections_open: 0,
    events: 0,
    invalid: 0,
    resends: 0,
    missing: 0,
  };

  constructor(options: MockStateOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#opts = {
      historySize: options.historySize ?? 100,
      invalidKept: options.invalidKept ?? 100,
      eventsKept: options.eventsKept ?? 10_000,
      maxAgents: options.maxAgents ?? 1_000,
      maxChecksPerAgent: options.maxChecksPerAgent ?? 1_000,
    };
  }

  /** A WebSocket opened; `connection` is the server's number for it. */
  opened(connection: number): void {
    this.#connections.set(connection, new Set());
    this.#stats.connections_total++;
    this.#stats.connections_open++;
  }

  /** A WebSocket closed; returns the agents it carried, as they are now. */
  closed(connection: number): AgentView[] {
    const agents = this.#connections.get(connection);
    if (agents === undefined) return [];
    this.#connections.delete(connection);
    this.#stats.connections_open--;
    return [...agents].flatMap((id) => {
      const record = this.#agents.get(id);
      if (record === undefined) return [];
      record.connections.delete(connection);
      return [this.#agentView(record)];
    });
  }

  /** Handles one parsed item of a frame: validates, dedupes, counts gaps, updates the views. */
  receive(value: unknown, connection?: number): Receipt {
    const obj = Object(value) as Record<string, unknown>; // {} for null, a wrapper for 5
    const verdict = validateEvent(value);
    const agentId = typeof obj.agent === "string" && obj.agent !== "" ? obj.agent : undefined;
    // An invalid item counts towards its run only for an agent already known, so that garbage
    // makes no agents and every agent's missing count covers all of its runs.
    const record = agentId === undefined
      ? undefined
      : verdict.ok
      ? this.#agentRecord(agentId)
      : this.#agents.get(agentId);
    const usableSeq = Number.isSafeInteger(obj.seq) && (obj.seq as number) >= 1;
    const seq = record !== undefined && usableSeq
      ? this.#seqs.observe(
        record.id,
        typeof obj.run === "string" ? obj.run : "",
        obj.seq as number,
        typeof obj.id === "string" ? obj.id : undefined,
      )
      : NO_SEQ;
    this.#stats.missing += seq.missingDelta;
    if (seq.resend) this.#stats.resends++;
    const alive = record === undefined ? {} : this.#alive(record, connection);
    let receipt: Receipt;
    if (!verdict.ok) {
      const item = { event: value, valid: false, errors: verdict.errors, resend: seq.resend };
      receipt = this.#invalidItem(item, JSON.stringify(value) ?? String(value), agentId);
      receipt.seq = seq;
      if (record !== undefined) record.counts.invalid++;
    } else {
      const event = value as AgentEvent;
      const item: ReceivedEvent = { event, valid: true, resend: seq.resend };
      this.#keep(item);
      receipt = { item, seq };
      if (!seq.resend) {
        record!.counts.events++;
        // A late event of an earlier run (from a spool) does not make that run current again.
        const newest = event.timestamp >= record!.newestAt;
        if (newest) [record!.newestAt, record!.run] = [event.timestamp, event.run];
        if (event.type === "heartbeat" && newest) this.#heartbeat(record!, event);
        else if (event.type === "check") Object.assign(receipt, this.#check(record!, event));
      }
    }
    if (record === undefined) return receipt;
    record.counts.missing += seq.missingDelta;
    if (seq.restart) record.counts.restarts++;
    if (seq.resend) record.counts.resends++;
    Object.assign(receipt, alive);
    receipt.agent = this.#agentView(record);
    return receipt;
  }

  /** A frame that is not JSON (or is binary). */
  receiveBadFrame(text: string | null): Receipt {
    const item = {
      event: text === null ? null : shorten(text),
      valid: false,
      errors: ["not JSON"],
    };
    return this.#invalidItem({ ...item, resend: false }, text ?? "(binary frame)", undefined, true);
  }

  /** Marks agents silent for 3 × their heartbeat interval as "no data"; returns the newly marked. */
  tick(): NoDataChange[] {
    const now = this.#now();
    const changes: NoDataChange[] = [];
    for (const record of this.#agents.values()) {
      const limitMs = noDataLimitMs(record);
      if (limitMs === undefined || record.nodataSince !== undefined) continue;
      const silentMs = now - record.lastSeen;
      if (silentMs < limitMs) continue;
      record.nodataSince = now;
      changes.push({ agent: this.#agentView(record), silentMs, limitMs });
    }
    return changes;
  }

  /** Every agent, by id. */
  agents(): AgentView[] {
    return [...this.#agents.values()].sort((a, b) => a.id < b.id ? -1 : 1).map((r) =>
      this.#agentView(r)
    );
  }

  /** Every check (of one agent when given), by agent, instance and target, with history. */
  checks(agent?: string): CheckView[] {
    const records = agent === undefined
      ? [...this.#agents.values()]
      : [this.#agents.get(agent)].filter((r) => r !== undefined);
    return records.flatMap((r) => [...r.checks.values()].map((c) => c.view())).sort(compareChecks);
  }

  /** The kept invalid items, oldest first. */
  invalid(): InvalidView[] {
    return [...this.#invalid];
  }

  /** The kept items of every kind, oldest first (`GET /events`). */
  events(): ReceivedEvent[] {
    return [...this.#kept];
  }

  stats(): MockStats {
    return { ...this.#stats };
  }

  #keep(item: ReceivedEvent): void {
    this.#kept.push(item);
    if (this.#kept.length > this.#opts.eventsKept) this.#kept.shift();
    this.#stats.events++;
    if (!item.valid) this.#stats.invalid++;
  }

  #invalidItem(item: ReceivedEvent, raw: string, agent?: string, frame = false): Receipt {
    this.#keep(item);
    const invalid: InvalidView = {
      received_at: new Date(this.#now()).toISOString(),
      ...(agent === undefined ? {} : { agent }),
      errors: frame
        ? [{ field: "(frame)", reason: "not JSON" }]
        : (item.errors ?? []).map(splitError),
      raw: shorten(raw),
    };
    this.#invalid.push(invalid);
    if (this.#invalid.length > this.#opts.invalidKept) this.#invalid.shift();
    return { item, seq: NO_SEQ, invalid };
  }

  #agentRecord(id: string): AgentRecord {
    const record = this.#agents.get(id) ?? newAgentRecord(id, this.#now());
    touch(this.#agents, id, record, this.#opts.maxAgents, (gone) => this.#seqs.forget(gone));
    return record;
  }

  /** The agent sent something: it is seen, connected through `connection`, and back from no data. */
  #alive(record: AgentRecord, connection?: number): Pick<Receipt, "back"> {
    const now = this.#now();
    const silentMs = now - record.lastSeen;
    record.lastSeen = now;
    if (connection !== undefined && this.#connections.has(connection)) {
      this.#connections.get(connection)!.add(record.id);
      record.connections.add(connection);
    }
    if (record.nodataSince === undefined) return {};
    delete record.nodataSince;
    return { back: { silentMs } };
  }

  #heartbeat(record: AgentRecord, event: HeartbeatEvent): void {
    record.heartbeat = event;
    // Heartbeats turned off (interval 0): silence says nothing any more.
    if (noDataLimitMs(record) === undefined) delete record.nodataSince;
  }

  #check(record: AgentRecord, event: CheckEvent): Pick<Receipt, "check" | "entry"> {
    const key = `${event.instance}\u0000${event.target}`;
    const check = record.checks.get(key) ?? new CheckRecord(event, this.#opts.historySize);
    touch(record.checks, key, check, this.#opts.maxChecksPerAgent);
    const entry = check.add(event, new Date(this.#now()).toISOString());
    return { check: check.summary(), entry };
  }

  #agentView(record: AgentRecord): AgentView {
    return agentView(record, this.#seqs.runs(record.id));
  }
}
