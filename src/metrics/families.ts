/**
 * Every metric family the agent exports besides the details gauges: names,
 * types and help texts in one place (the names are fixed by the contract,
 * "Metrics for Prometheus and remote write").
 *
 * @module
 */

import type { FamilyDef } from "./exposition.ts";

const gauge = (name: string, help: string): FamilyDef => ({ name, type: "gauge", help });
const counter = (name: string, help: string): FamilyDef => ({ name, type: "counter", help });

/** Families of each check series (labels: agent, module, instance, target and the instance's labels). */
export const CHECK_FAMILIES = {
  up: gauge("kozak_check_up", "1 when the last run was ok or warn, 0 when it was error."),
  status: gauge(
    "kozak_check_status",
    "1 for the last run's status (label status: ok, warn, error), 0 for the other two.",
  ),
  duration: gauge("kozak_check_duration_seconds", "How long the last run took."),
  lastRun: gauge(
    "kozak_check_last_run_timestamp_seconds",
    "When the last run ended, in Unix seconds.",
  ),
  failures: counter(
    "kozak_check_failures_total",
    "Runs with status error since the agent started, by reason.",
  ),
} as const;

/** Families of the agent itself (label: agent). */
export const AGENT_FAMILIES = {
  info: gauge("kozak_agent_info", "Always 1; labels version and run (this process start)."),
  startTime: gauge("kozak_agent_start_time_seconds", "When the agent started, in Unix seconds."),
  schedulerRunning: gauge("kozak_scheduler_running", "1 while the scheduler runs checks."),
  skippedRuns: counter(
    "kozak_check_skipped_runs_total",
    "Runs skipped because the previous run of that check had not finished.",
  ),
  queueEvents: gauge("kozak_queue_events", "Events waiting in the outgoing queue."),
  queueMax: gauge("kozak_queue_max_events", "The bound of the outgoing queue (QUEUE_MAX_EVENTS)."),
  queueDropped: counter("kozak_queue_dropped_total", "Events dropped since the agent started."),
  connected: gauge(
    "kozak_monitoring_connected",
    "1 while the WebSocket to the monitoring server is open.",
  ),
  acked: counter(
    "kozak_monitoring_acked_events_total",
    "Events the monitoring server acknowledged.",
  ),
  unconfirmed: counter(
    "kozak_monitoring_unconfirmed_events_total",
    "Events written to a monitoring server that does not acknowledge (delivery unconfirmed).",
  ),
} as const;

/** Families of remote write, exported only when REMOTE_WRITE_URL is set (label: agent). */
export const REMOTE_WRITE_FAMILIES = {
  queued: gauge("kozak_remote_write_queue_samples", "Samples waiting to be pushed."),
  sent: counter("kozak_remote_write_sent_samples_total", "Samples the receiver accepted."),
  dropped: counter(
    "kozak_remote_write_dropped_total",
    "Samples dropped: the remote-write queue was full, or the receiver rejected them (4xx).",
  ),
  failed: counter(
    "kozak_remote_write_failed_requests_total",
    "Pushes that failed and are retried (network error, 5xx, 429).",
  ),
  lastSuccess: gauge(
    "kozak_remote_write_last_success_timestamp_seconds",
    "When the receiver last accepted a push, in Unix seconds (0 before the first).",
  ),
} as const;

/** Every fixed family name: a details gauge never takes one of them. */
export const FIXED_NAMES: ReadonlySet<string> = new Set(
  [CHECK_FAMILIES, AGENT_FAMILIES, REMOTE_WRITE_FAMILIES].flatMap((group) =>
    Object.values(group).map((f) => f.name)
  ),
);
