/**
 * The agent's status file (`AGENT_STATUS_FILE`, extension): rewritten every
 * few seconds so that a container HEALTHCHECK or an operator can see that the
 * agent's loop is alive, whether it is connected and how full its queue is.
 *
 * @module
 */

import type { InstanceState } from "./metrics/registry.ts";

export type { InstanceState } from "./metrics/registry.ts";

/** The remote-write part of the status (when `REMOTE_WRITE_URL` is set). */
export interface RemoteWriteStatus {
  url: string;
  /** Samples waiting, and dropped since start. */
  queued: number;
  dropped: number;
  sent: number;
  /** When the receiver last accepted a push (RFC 3339), absent before the first. */
  last_success?: string;
  /** The failure of the pushes while they fail. */
  last_error?: string;
}

/** What the status file (and the metrics listener's `/status`) holds. */
export interface AgentStatus {
  /** When this status was written (RFC 3339, UTC). */
  ts: string;
  agent: string;
  version: string;
  uptime_s: number;
  connected: boolean;
  /** `max` is the queue's bound (absent in files of older agents). */
  queue: { size: number; dropped: number; max?: number };
  skipped_runs: number;
  /** The agent's process id. */
  pid?: number;
  /** Each instance's (and target's) last run, once it has run. */
  instances?: InstanceState[];
  /** `METRICS_LISTEN`, when set. */
  metrics_listen?: string;
  remote_write?: RemoteWriteStatus;
  /** Written once by a clean stop: the agent is gone, however fresh `ts` is. */
  stopped?: true;
}

/**
 * Writes the status file now and every 5 s; returns the function that stops
 * it, which writes it a last time marked `stopped`. A failed write is
 * logged, never fatal (the agent's job is the checks).
 */
export function startStatusWriter(
  path: string | undefined,
  snapshot: () => AgentStatus,
  warn: (message: string, fields: Record<string, unknown>) => void,
): () => void {
  if (!path) return () => {};
  const write = (last = false) => {
    try {
      const status = last ? { ...snapshot(), stopped: true } : snapshot();
      Deno.writeTextFileSync(path, JSON.stringify(status) + "\n");
    } catch (error) {
      warn("cannot write the status file", { path, error });
    }
  };
  write();
  const timer = setInterval(() => write(), 5_000);
  return () => {
    clearInterval(timer);
    write(true);
  };
}

/** Parses a status file's text; undefined when it is not one. */
export function parseStatus(text: string): AgentStatus | undefined {
  try {
    const value = JSON.parse(text);
    if (typeof value?.ts !== "string" || Number.isNaN(Date.parse(value.ts))) return undefined;
    return value as AgentStatus;
  } catch {
    return undefined;
  }
}

/**
 * Decides health: the status must be younger than `maxAgeMs`. Being
 * disconnected from monitoring is not unhealthy — queuing while it is away is
 * the agent doing its job — so it is reported, not judged.
 */
export function judgeStatus(
  status: AgentStatus | undefined,
  nowMs: number,
  maxAgeMs: number,
): { healthy: boolean; message: string } {
  if (!status) return { healthy: false, message: "no readable status: is the agent running?" };
  const ageMs = nowMs - Date.parse(status.ts);
  if (ageMs > maxAgeMs) {
    return {
      healthy: false,
      message: `status is ${Math.round(ageMs / 1000)} s old: the agent loop is stuck or gone`,
    };
  }
  if (status.stopped) return { healthy: false, message: "the agent has stopped" };
  return {
    healthy: true,
    message: `alive, ${
      status.connected ? "connected" : "not connected (queuing)"
    }, queue ${status.queue.size}, dropped ${status.queue.dropped}`,
  };
}
