/**
 * Reads the output of `systemctl show --property=… -- UNIT…`.
 *
 * The format (systemd's `bus_print_property_value()` and `show_one()`): one
 * `Name=value` line per property, in the order systemd keeps them (not the
 * order asked for: a service's `MainPID` and `NRestarts` come before the
 * unit's `LoadState`), one block per unit in the order of the arguments, a
 * blank line between blocks. Any other shape is not systemctl's answer.
 *
 * @module
 */

/** One unit's properties as systemctl printed them. */
export type Properties = ReadonlyMap<string, string>;

/** The blocks, or why the text is not `systemctl show` output. */
export type ShowParse = { ok: true; blocks: Properties[] } | { ok: false; reason: string };

const LINE = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/;

/**
 * Splits `systemctl show` output into one property map per unit.
 *
 * @example
 * ```ts
 * import { parseShow } from "./show_output.ts";
 * const parsed = parseShow("LoadState=loaded\nActiveState=active\n\nLoadState=not-found\n");
 * console.assert(parsed.ok && parsed.blocks.length === 2);
 * ```
 */
export function parseShow(text: string): ShowParse {
  if (text === "") return { ok: true, blocks: [] };
  if (!text.endsWith("\n")) {
    return { ok: false, reason: "the output does not end with a line break" };
  }
  const blocks: Properties[] = [];
  let current = new Map<string, string>();
  const lines = text.slice(0, -1).split("\n");
  for (const [index, line] of lines.entries()) {
    if (line === "") {
      if (current.size === 0) {
        return { ok: false, reason: `line ${index + 1} is an unexpected blank line` };
      }
      blocks.push(current);
      current = new Map();
      continue;
    }
    const match = LINE.exec(line);
    if (!match) {
      return { ok: false, reason: `line ${index + 1} is not Name=value: ${quote(line)}` };
    }
    const [, name, value] = match;
    if (current.has(name)) {
      return { ok: false, reason: `line ${index + 1} repeats the property ${name}` };
    }
    current.set(name, value);
  }
  if (current.size === 0) return { ok: false, reason: "the output ends with a blank line" };
  blocks.push(current);
  return { ok: true, blocks };
}

/**
 * A timestamp property as an RFC 3339 string, or null when systemd has none
 * (`n/a` since systemd 25x, an empty value before).
 *
 * systemctl prints `Wed 2024-02-28 20:22:28 UTC` in the time zone it runs in
 * (the module runs it with `TZ=UTC`), or `@1709151748` with
 * `--timestamp=unix`. Anything else is returned as `{ text }` to keep it.
 */
export function parseTimestamp(value: string | undefined): string | null | { text: string } {
  if (value === undefined || value === "" || value === "n/a") return null;
  const unix = /^@(\d+)$/.exec(value);
  if (unix) return new Date(Number(unix[1]) * 1000).toISOString();
  const utc = /^[A-Za-z]{3} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})? (?:UTC|GMT)$/
    .exec(value);
  if (utc) {
    const [, y, mo, d, h, mi, s, fraction] = utc;
    const ms = Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h),
      Number(mi),
      Number(s),
      fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0,
    );
    const date = new Date(ms);
    // Date.UTC rolls 2024-02-30 over into March; such a value is not a real timestamp.
    if (date.getUTCDate() === Number(d) && date.getUTCMonth() === Number(mo) - 1) {
      return date.toISOString();
    }
  }
  return { text: value };
}

function quote(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}
