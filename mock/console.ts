/**
 * The mock's console lines: one per event, plus lines for invalid items,
 * connections and agents going silent ("no data") or coming back. With
 * colours (ANSI) when asked; the text is the same either way.
 *
 * @module
 */

import type { AgentEvent } from "../src/protocol.ts";

/** What {@link formatEventLine} adds after the event. */
export interface LineFlags {
  resend?: boolean;
  /** Events missing before this one (a seq gap). */
  gap?: number;
  /** The first event of a new run: the agent restarted. */
  restart?: boolean;
}

/** Wraps parts of a line in colour; {@link PLAIN} leaves them as they are. */
export interface Paint {
  dim(text: string): string;
  bold(text: string): string;
  ok(text: string): string;
  warn(text: string): string;
  error(text: string): string;
  info(text: string): string;
}

const same = (text: string) => text;

/** No colour. */
export const PLAIN: Paint = {
  dim: same,
  bold: same,
  ok: same,
  warn: same,
  error: same,
  info: same,
};

const sgr = (open: string) => (text: string) => `\x1b[${open}m${text}\x1b[0m`;

/** ANSI colours for a terminal. */
export const ANSI: Paint = {
  dim: sgr("2"),
  bold: sgr("1"),
  ok: sgr("32"),
  warn: sgr("33"),
  error: sgr("1;31"),
  info: sgr("36"),
};

/**
 * Whether to colour: `MOCK_COLOR` `always` / `never` / `auto` (default: when
 * stdout is a terminal). `NO_COLOR` (any non-empty value) always wins.
 */
export function useColor(mockColor: string | undefined, isTerminal: boolean, noColor: boolean) {
  if (noColor) return false;
  const mode = mockColor?.trim().toLowerCase() || "auto";
  if (!["auto", "always", "never"].includes(mode)) {
    throw new Error(`MOCK_COLOR must be auto, always or never, got ${JSON.stringify(mockColor)}`);
  }
  return mode === "always" || (mode === "auto" && isTerminal);
}

/** Control characters (newlines from a hostile agent) must not split a line. */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
}

function statusPaint(paint: Paint, status: string): (text: string) => string {
  return status === "ok" ? paint.ok : status === "warn" ? paint.warn : paint.error;
}

/**
 * One readable line for a valid event, e.g.
 * `06:28:04.123 web-1 #12 check tcp 127.0.0.1:22 ok 1.2ms`,
 * `06:28:04.124 web-1 #13 check postgres/orders-db 127.0.0.1:5432/orders ok 3.1ms` or
 * `06:28:04.123 web-1 #13 heartbeat up 30s queue 0 dropped 0 v0.1.0`.
 */
export function formatEventLine(
  event: AgentEvent,
  flags: LineFlags = {},
  paint: Paint = PLAIN,
): string {
  // Each part is made one line before it is coloured, so the colour codes survive.
  const parts: string[] = [];
  const add = (text: string, style: (t: string) => string = same) =>
    parts.push(style(oneLine(text)));
  add(event.timestamp.slice(11, 23), paint.dim);
  add(event.agent, paint.bold);
  add(`#${event.seq}`, paint.dim);
  add(event.type);
  if (event.type === "check") {
    // The instance, when it is not the module's own environment-configured one.
    const instance = event.instance && event.instance !== event.module ? `/${event.instance}` : "";
    const painted = statusPaint(paint, event.status);
    add(`${event.module}${instance}`, paint.info);
    add(event.target);
    add(event.status, painted);
    if (event.reason !== undefined) add(event.reason, painted);
    if (event.message !== undefined) add(JSON.stringify(event.message));
    add(`${event.duration_ms}ms`, paint.dim);
  } else if (event.type === "heartbeat") {
    const { uptime_s, queue, version, skipped_runs } = event;
    add(`up ${Math.round(uptime_s)}s queue ${queue.size} dropped ${queue.dropped}`, paint.dim);
    if (queue.dropped > 0) parts[parts.length - 1] = paint.warn(parts[parts.length - 1]);
    if (skipped_runs > 0) add(`skipped ${skipped_runs}`, paint.warn);
    add(`v${version}`, paint.dim);
  }
  if (flags.gap) add(`(gap: ${flags.gap} events missing before #${event.seq})`, paint.warn);
  if (flags.restart) add("(agent restarted)", paint.info);
  if (flags.resend) add("(resend)", paint.dim);
  return parts.join(" ");
}

/** `INVALID event from web-1: /status must be … {raw}`, red when coloured. */
export function formatInvalidLine(
  agent: string | undefined,
  errors: string[],
  raw: string,
  paint: Paint = PLAIN,
): string {
  return paint.error(oneLine(`INVALID event from ${agent ?? "?"}: ${errors.join("; ")} ${raw}`));
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** `06:28:04.123 web-1 NO DATA: nothing received for 45s (3 × heartbeat interval 15s)`. */
export function formatNoDataLine(
  agent: string,
  atMs: number,
  silentMs: number,
  limitMs: number,
  paint: Paint = PLAIN,
): string {
  const time = new Date(atMs).toISOString().slice(11, 23);
  return `${paint.dim(time)} ${paint.bold(oneLine(agent))} ${
    paint.error(`NO DATA: nothing received for ${seconds(silentMs)}`)
  } (3 × heartbeat interval ${seconds(limitMs / 3)})`;
}

/** `06:28:04.123 web-1 data again after 52s of silence`. */
export function formatBackLine(
  agent: string,
  atMs: number,
  silentMs: number,
  paint: Paint = PLAIN,
): string {
  const time = new Date(atMs).toISOString().slice(11, 23);
  return `${paint.dim(time)} ${paint.bold(oneLine(agent))} ${
    paint.ok(`data again after ${seconds(silentMs)} of silence`)
  }`;
}
