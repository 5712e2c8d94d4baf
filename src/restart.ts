/**
 * The restart protocol between the agent and its supervisor (launcher.ts,
 * bin/kozak-supervise). When a reload needs other permissions, the agent
 * cannot widen its own (and must not start `deno` with flags of its
 * choosing), so it asks to be restarted: it stops its checks, hands its
 * queue over and exits with {@link RESTART_EXIT_CODE}; the supervisor
 * computes the flags from the configuration again and starts a new agent.
 *
 * The queue travels through the spool when there is one. Without, the agent
 * writes every waiting event to stdout (unused otherwise: logs go to stderr)
 * in the spool's record format, and the supervisor feeds that to the new
 * agent's stdin with `KOZAK_HANDOVER=stdin`. The events keep their `id`,
 * `seq` and `run`.
 *
 * @module
 */

import { decodeRecords, encodeRecord } from "./spool/record.ts";
import type { SpooledEvent } from "./spool/spool.ts";

/** "Restart me with the flags computed again" (EX_TEMPFAIL). */
export const RESTART_EXIT_CODE = 75;

/** The most a hand-over may hold: beyond any queue the agent allows. */
const MAX_HANDOVER_BYTES = 2 * 1024 * 1024 * 1024;

/** The waiting events as hand-over bytes. */
export function encodeHandover(events: SpooledEvent[]): Uint8Array {
  const parts = events.map((e) => encodeRecord({ type: "event", ...e }));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Writes the hand-over to stdout, all of it. */
export function writeHandover(events: SpooledEvent[]): void {
  const bytes = encodeHandover(events);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

/** The events of a hand-over, and how many corrupt stretches were skipped. */
export function decodeHandover(bytes: Uint8Array): { events: SpooledEvent[]; corrupt: number } {
  const decoded = decodeRecords(bytes);
  const events: SpooledEvent[] = [];
  for (const r of decoded.records) if (r.type === "event") events.push(r);
  return { events: events.sort((a, b) => a.pos - b.pos), corrupt: decoded.corrupt };
}

/** Reads the hand-over from stdin (to its end). */
export async function readHandover(): Promise<{ events: SpooledEvent[]; corrupt: number }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of Deno.stdin.readable) {
    total += chunk.length;
    if (total > MAX_HANDOVER_BYTES) break;
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(Math.min(total, MAX_HANDOVER_BYTES));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c.subarray(0, bytes.length - at), at);
    at += c.length;
  }
  return decodeHandover(bytes);
}
