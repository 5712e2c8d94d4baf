/**
 * One check (an instance's target) of one agent as the mock keeps it: the
 * latest result, when its status last changed, and a bounded history in
 * timestamp order.
 *
 * @module
 */

import type { CheckEvent } from "../src/protocol.ts";
import type { CheckView, HistoryEntry } from "./views.ts";

/** A check's latest result and its recent events. */
export class CheckRecord {
  #view: Omit<CheckView, "history">;
  readonly #history: HistoryEntry[] = [];
  readonly #historySize: number;

  /** Starts from the check's first event; {@link add} it next. */
  constructor(first: CheckEvent, historySize: number) {
    this.#view = { ...latest(first), changed_at: first.timestamp, events: 0 };
    this.#historySize = historySize;
  }

  get status(): CheckView["status"] {
    return this.#view.status;
  }

  /** Adds an event received at `receivedAt`; returns its history entry. */
  add(event: CheckEvent, receivedAt: string): HistoryEntry {
    const entry: HistoryEntry = {
      id: event.id,
      seq: event.seq,
      run: event.run,
      timestamp: event.timestamp,
      received_at: receivedAt,
      status: event.status,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.message === undefined ? {} : { message: event.message }),
      duration_ms: event.duration_ms,
      details: event.details,
    };
    this.#view.events++;
    // A late (spooled) event goes to its place in the history and does not replace the latest.
    let at = this.#history.length;
    while (at > 0 && this.#history[at - 1].timestamp > entry.timestamp) at--;
    const newest = at === this.#history.length && entry.timestamp >= this.#view.timestamp;
    this.#history.splice(at, 0, entry);
    if (this.#history.length > this.#historySize) this.#history.shift();
    if (newest) {
      const old = this.#view;
      const changed = old.status !== event.status || old.reason !== event.reason;
      this.#view = {
        ...latest(event),
        changed_at: changed ? event.timestamp : old.changed_at,
        events: old.events,
      };
    }
    return entry;
  }

  /** The latest result without the history. */
  summary(): Omit<CheckView, "history"> {
    return { ...this.#view, labels: { ...this.#view.labels } };
  }

  /** The latest result and the history, oldest first. */
  view(): CheckView {
    return { ...this.summary(), history: [...this.#history] };
  }
}

/** The latest-result fields of a check view, from its newest event. */
function latest(e: CheckEvent): Omit<CheckView, "history" | "changed_at" | "events"> {
  return {
    agent: e.agent,
    module: e.module,
    instance: e.instance,
    target: e.target,
    labels: { ...e.labels },
    status: e.status,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.message === undefined ? {} : { message: e.message }),
    duration_ms: e.duration_ms,
    timestamp: e.timestamp,
  };
}

/** Orders checks by agent, instance and target, as the page lists them. */
export function compareChecks(a: CheckView, b: CheckView): number {
  for (const key of ["agent", "instance", "target"] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return 0;
}
