/**
 * The benchmark's table: one row per figure (measured, the reference
 * measured in the same run, the target, the verdict), rendered as a Markdown
 * table so that README.md's "Performance" section can be refreshed by
 * pasting the output; and as JSON for machines.
 *
 * @module
 */

/** One figure of the table. */
export interface Row {
  /** The group the row is printed under (a section line of the table). */
  section: string;
  figure: string;
  measured: string;
  reference: string;
  target: string;
  /** `met`, `not met: <what limits it, measured>`, `—` without a target, or why it is missing. */
  verdict: string;
  /** The numbers behind the row (for `--json`), units in the names. */
  values?: Record<string, number>;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `12.3 MB` from KiB (MB here is MiB, as `ps` and /proc count). */
export function mb(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MB`;
}

/** `123 ms` (one decimal below 10 ms). */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** `1.23×`. */
export function times(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** A whole number with thousands separators: `12,345`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * The verdict of `value` against `limit`: `met`, or `not met: ` and what
 * `limits()` says (it must name a measurement of this run).
 */
export function verdict(
  value: number,
  comparison: "<=" | "<",
  limit: number,
  limits: () => string,
): string {
  if (!Number.isFinite(value)) return "no measurement";
  const ok = comparison === "<=" ? value <= limit : value < limit;
  return ok ? "met" : `not met: ${limits()}`;
}

/** A cell cannot hold `|` or a line break in a Markdown table. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

const HEADER = ["figure", "measured", "reference (same run)", "target", "verdict"];

/** The rows as one Markdown table; each new section starts with a bold section line. */
export function renderTable(rows: Row[]): string {
  const lines = [`| ${HEADER.join(" | ")} |`, `| ${HEADER.map(() => "---").join(" | ")} |`];
  let section: string | undefined;
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      lines.push(`| **${cell(section)}** | | | | |`);
    }
    const cells = [row.figure, row.measured, row.reference, row.target, row.verdict];
    lines.push(`| ${cells.map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** A row for a figure that could not be measured (a server missing, a failure). */
export function missingRow(section: string, figure: string, target: string, why: string): Row {
  return { section, figure, measured: "—", reference: "—", target, verdict: why };
}
