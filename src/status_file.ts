/**
 * The agent's status file (`AGENT_STATUS_FILE`, extension): rewritten every
 * few seconds so that a container HEALTHCHECK or an operator can see that the
 * agent's loop is alive, whether it is connected and how full its queue is.
 *
 * @module
 */

/** What the status file holds. */
export interface AgentStatus {
  /** When this status was written (RFC 3339, UTC). */
  ts: string;
  agent: string;
  version: string;
  uptime_s: number;
  connected: boolean;
  queue: { size: number; dropped: number };
  skipped_runs: number;
}

/**
 * Writes the status file now and every 5 s; returns the function that stops
 * it. A failed write is logged, never fatal (the agent's job is the checks).
 */
export function startStatusWriter(
  path: string | undefined,
  snapshot: () => AgentStatus,
  warn: (message: string, fields: Record<string, unknown>) => void,
): () => void {
  if (!path) return () => {};
  const write = () => {
    try {
      Deno.writeTextFileSync(path, JSON.stringify(snapshot()) + "\n");
    } catch (error) {
      warn("cannot write the status file", { path, error });
    }
  };
  write();
  const timer = setInterval(write, 5_000);
  return () => clearInterval(timer);
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
  return {
    healthy: true,
    message: `alive, ${
      status.connected ? "connected" : "not connected (queuing)"
    }, queue ${status.queue.size}, dropped ${status.queue.dropped}`,
  };
}
