/**
 * The scheduler tests' harness: a scheduler on a manual clock that records
 * every outcome with the time it arrived, a capturing logger, a seeded
 * random source and deferred answers.
 *
 * @module
 */

import type { CheckResult, RunContext } from "../../src/check.ts";
import type { LogFields, Logger } from "../../src/log.ts";
import type { CheckOutcome } from "../../src/protocol.ts";
import type { ScheduledCheck, SchedulerOptions } from "../../src/scheduled_check.ts";
import { Scheduler } from "../../src/scheduler.ts";
import { ManualClock } from "./manual_clock.ts";

export interface LogLine {
  level: keyof Logger;
  message: string;
  fields?: LogFields;
}

export function capturingLog(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: keyof Logger) => (message: string, fields?: LogFields) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Mulberry32: a small seeded generator, so jittered runs repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function check(
  run: (ctx: RunContext) => Promise<CheckResult | CheckResult[]>,
  overrides: Partial<ScheduledCheck> = {},
): ScheduledCheck {
  return {
    key: "tcp:db:5432",
    module: "tcp",
    instance: "tcp",
    labels: {},
    targets: ["db:5432"],
    intervalMs: 60_000,
    timeoutMs: 5_000,
    run,
    ...overrides,
  };
}

export const ok = (target = "db:5432"): Promise<CheckResult> =>
  Promise.resolve({ target, status: "ok" });

/** A scheduler on a manual clock that records every outcome with the time it arrived. */
export function harness(options: Partial<SchedulerOptions> & { checks: ScheduledCheck[] }) {
  const clock = new ManualClock();
  const log = capturingLog();
  const outcomes: Array<CheckOutcome & { at: number }> = [];
  const scheduler = new Scheduler({
    clock,
    log,
    random: () => 0,
    sink: (o) => outcomes.push({ ...o, at: clock.now() }),
    ...options,
  });
  return { clock, log, outcomes, scheduler };
}

/** Drops the arrival time, leaving the outcome exactly as the sink got it. */
export const plain = ({ at: _at, ...outcome }: CheckOutcome & { at: number }): CheckOutcome =>
  outcome;
