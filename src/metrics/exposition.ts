/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and
 * `# TYPE` once per metric family, then one line per series, all lines of a
 * family together. No timestamps: the scraper stamps a scrape itself.
 *
 * @module
 */

/** The `Content-Type` of a 0.0.4 exposition. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What a family's samples mean to Prometheus. */
export type MetricType = "gauge" | "counter";

/** A metric family: its name, type and help text. */
export interface FamilyDef {
  name: string;
  type: MetricType;
  help: string;
}

/** A label value with `\`, `"` and line feeds escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
    : value;
}

/** A HELP text with `\` and line feeds escaped (quotes stay as they are there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: Go's float forms, `NaN`, `+Inf` and `-Inf` for the special ones. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * `name="value",…` for the pairs, in the order given (callers sort them once
 * when a series is registered, so every scrape shows the same text).
 */
export function labelPairs(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",");
}

/** One sample line: `name{labels} value`. */
export function sampleLine(name: string, labels: string, value: number): string {
  return `${name}{${labels}} ${formatValue(value)}`;
}

/** Appends one family's header and its sample lines to `out`; a family without lines is left out. */
export function renderFamily(out: string[], family: FamilyDef, lines: readonly string[]): void {
  if (lines.length === 0) return;
  out.push(
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
  );
  for (const line of lines) out.push(line);
}
