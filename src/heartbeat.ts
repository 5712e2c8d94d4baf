/**
 * The heartbeat: an event every `HEARTBEAT_INTERVAL_SECONDS` (and one at
 * start) so that "no data" can be told from "nothing to say".
 *
 * @module
 */

/** Starts the heartbeats; returns the function that stops them. 0 ms means none. */
export function startHeartbeat(intervalMs: number, beat: () => void): () => void {
  if (intervalMs <= 0) return () => {};
  beat();
  const timer = setInterval(beat, intervalMs);
  return () => clearInterval(timer);
}
