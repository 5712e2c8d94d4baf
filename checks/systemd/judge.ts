/**
 * Turns one unit's properties into a check result: the state mapping and the
 * restart counter. Pure: the previous restart count comes in, the new one
 * goes out, so the caller keeps it in the run's memory.
 *
 * @module
 */

import type { CheckResult, Details, Reason, Status } from "../../src/check.ts";
import { parseTimestamp, type Properties } from "./show_output.ts";

/** What the last run saw of a unit's restart counter. */
export interface RestartMark {
  /** `NRestarts` at that run. */
  count: number;
  /** When that run was, RFC 3339. */
  at: string;
}

/** A judged unit: its result and the restart mark to remember (if any). */
export interface Judgement {
  result: CheckResult;
  mark?: RestartMark;
}

/** Transitional states: the unit is on its way somewhere, not settled. */
const WARN_STATES = ["activating", "reloading", "deactivating", "refreshing", "maintenance"];
/** Settled and not running. */
const DOWN_STATES = ["inactive", "failed"];
const STATE_WORD = /^[a-z][a-z-]*$/;

/**
 * Judges one unit.
 *
 * @param target the name as configured (the event's target)
 * @param unit the full unit name that was asked for
 * @param props what systemctl printed for it
 * @param previous the restart mark of the previous run, if any
 * @param now this run's time, RFC 3339
 */
export function judgeUnit(
  target: string,
  unit: string,
  props: Properties,
  previous: RestartMark | undefined,
  now: string,
): Judgement {
  const load = props.get("LoadState");
  const active = props.get("ActiveState");
  const sub = props.get("SubState");
  if (load === undefined || active === undefined || sub === undefined) {
    const missing = ["LoadState", "ActiveState", "SubState"].filter((p) => !props.has(p));
    return protocol(target, `systemctl show gave no ${missing.join(", ")} for ${unit}`);
  }
  for (const [name, value] of [["LoadState", load], ["ActiveState", active], ["SubState", sub]]) {
    if (!STATE_WORD.test(value)) {
      return protocol(target, `systemctl show gave ${name}=${JSON.stringify(value)} for ${unit}`);
    }
  }
  const restarts = counter(props.get("NRestarts"));
  const mainPid = counter(props.get("MainPID"));
  if (restarts === "bad" || mainPid === "bad") {
    const name = restarts === "bad" ? "NRestarts" : "MainPID";
    return protocol(
      target,
      `systemctl show gave ${name}=${JSON.stringify(props.get(name))} for ${unit}`,
    );
  }

  const activeSince = parseTimestamp(props.get("ActiveEnterTimestamp"));
  const stateSince = parseTimestamp(props.get("StateChangeTimestamp"));
  const details: Details = {
    unit,
    load_state: load,
    active_state: active,
    sub_state: sub,
    restarts,
    main_pid: mainPid === 0 ? null : mainPid,
    active_since: typeof activeSince === "object" && activeSince !== null ? null : activeSince,
    state_since: typeof stateSince === "object" && stateSince !== null ? null : stateSince,
  };
  if (activeSince !== null && typeof activeSince === "object") {
    details.active_since_text = activeSince.text;
  }
  if (stateSince !== null && typeof stateSince === "object") {
    details.state_since_text = stateSince.text;
  }

  const mark = restarts === null ? undefined : { count: restarts, at: now };
  let restartNote: string | undefined;
  if (restarts !== null && previous !== undefined && restarts >= previous.count) {
    const delta = restarts - previous.count;
    details.restarts_since_last_check = delta;
    if (delta > 0) {
      restartNote = `restarted ${delta} time${delta === 1 ? "" : "s"} since ${previous.at} ` +
        `(NRestarts ${previous.count} → ${restarts})`;
    }
  } else {
    // First sight, no counter (not a service), or a counter that went down
    // (reset-failed, a reboot): nothing to compare with yet.
    details.restarts_since_last_check = null;
  }

  const state = `${active} (${sub})`;
  const since = typeof details.state_since === "string" ? ` since ${details.state_since}` : "";
  const loadNote = load === "loaded" ? "" : `; its LoadState is ${load}`;
  let status: Status;
  let reason: Reason = "inactive";
  let message: string | undefined;
  if (load === "not-found" && !["active", ...WARN_STATES].includes(active)) {
    status = "error";
    reason = "config";
    message = `no such unit: systemd knows no unit ${unit} (LoadState=not-found)`;
  } else if (active === "active") {
    status = "ok";
    if (loadNote) message = `${unit} is ${state}${loadNote}`;
  } else if (DOWN_STATES.includes(active)) {
    status = "error";
    message = `${unit} is ${state}${since}${loadNote}`;
  } else if (WARN_STATES.includes(active)) {
    status = "warn";
    const why = active === "activating" && sub === "auto-restart"
      ? ": it stopped and systemd is about to restart it"
      : "";
    message = `${unit} is ${state}${since}${why}${loadNote}`;
  } else {
    status = "warn";
    message = `${unit} is in state ${state}, which this agent does not know${since}${loadNote}`;
  }

  if (restartNote !== undefined) {
    message = message === undefined ? `${unit} ${restartNote}` : `${message}; ${restartNote}`;
    if (status === "ok") status = "warn";
  }
  const result: CheckResult = status === "ok"
    ? (message ? { target, status, message, details } : { target, status, details })
    : { target, status, reason, message, details };
  return mark ? { result, mark } : { result };
}

/** A non-negative integer property: the number, null when absent or unset, "bad" otherwise. */
function counter(value: string | undefined): number | null | "bad" {
  if (value === undefined || value === "" || value === "[not set]") return null;
  if (!/^\d+$/.test(value)) return "bad";
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : "bad";
}

function protocol(target: string, message: string): Judgement {
  return { result: { target, status: "error", reason: "protocol", message } };
}
