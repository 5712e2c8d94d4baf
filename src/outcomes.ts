/**
 * What a run's answer becomes: one outcome per target, whatever the module
 * returned — a malformed answer, a missing target, an exception and a
 * timeout each become a named error instead of a crash.
 *
 * @module
 */

import type { CheckResult, Reason, Status } from "./check.ts";
import type { CheckOutcome } from "./protocol.ts";

/** What the outcome functions need to know of the check. */
export interface OutcomeSubject {
  module: string;
  instance: string;
  labels: Record<string, string>;
  key: string;
  targets: string[];
  timeoutMs: number;
}

const STATUSES: readonly Status[] = ["ok", "warn", "error"];

/** An error outcome for one target of the check. */
function errorOutcome(
  check: OutcomeSubject,
  target: string,
  reason: Reason,
  message: string,
  durationMs: number,
): CheckOutcome {
  return {
    module: check.module,
    instance: check.instance,
    labels: check.labels,
    target,
    status: "error",
    reason,
    message,
    duration_ms: durationMs,
  };
}

/** A module's answer as outcomes; every declared target gets one. */
export function outcomesOf(
  check: OutcomeSubject,
  result: CheckResult | CheckResult[],
  durationMs: number,
): CheckOutcome[] {
  const results = Array.isArray(result) ? result : [result];
  const outcomes: CheckOutcome[] = [];
  for (const r of results) {
    if (!r || typeof r.target !== "string" || !STATUSES.includes(r.status)) {
      outcomes.push(errorOutcome(
        check,
        check.targets[0] ?? check.key,
        "internal",
        `${check.module} check returned a malformed result`,
        durationMs,
      ));
      continue;
    }
    const outcome: CheckOutcome = {
      module: check.module,
      instance: check.instance,
      labels: check.labels,
      target: r.target,
      status: r.status,
      duration_ms: durationMs,
      details: r.details ?? {},
    };
    if (r.status !== "ok") {
      outcome.reason = r.reason ?? "internal";
      outcome.message = r.message ?? `${check.module} check of ${r.target} is ${r.status}`;
    } else if (r.message) {
      outcome.message = r.message;
    }
    outcomes.push(outcome);
  }
  for (const target of check.targets) {
    if (outcomes.some((o) => o.target === target)) continue;
    outcomes.push(errorOutcome(
      check,
      target,
      "internal",
      `${check.module} check returned no result for ${target}`,
      durationMs,
    ));
  }
  return outcomes;
}

/** The scheduler's own timeout outcome for each target, naming the last reported phase. */
export function timeoutOutcomes(
  check: OutcomeSubject,
  elapsedMs: number,
  phase: string | undefined,
): CheckOutcome[] {
  const during = phase === undefined ? "" : ` during ${phase}`;
  return check.targets.map((target) => ({
    ...errorOutcome(
      check,
      target,
      "timeout",
      `${check.module} check of ${target} timed out after ${check.timeoutMs} ms${during}`,
      elapsedMs,
    ),
    ...(phase === undefined ? {} : { details: { phase } }),
  }));
}

/** An exception escaping a check, for each target. */
export function internalOutcomes(
  check: OutcomeSubject,
  error: unknown,
  elapsedMs: number,
): CheckOutcome[] {
  const text = error instanceof Error ? error.message : String(error);
  return check.targets.map((target) =>
    errorOutcome(
      check,
      target,
      "internal",
      `${check.module} check failed internally: ${text}`,
      elapsedMs,
    )
  );
}

/** A module's timeout outcome carries the phase too, when the module did not say it. */
export function withPhase(outcome: CheckOutcome, phase: string | undefined): CheckOutcome {
  if (phase === undefined || outcome.details?.phase !== undefined) return outcome;
  return { ...outcome, details: { ...outcome.details, phase } };
}
