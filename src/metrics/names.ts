/**
 * Names of the gauges made from a check's numeric `details`:
 * `kozak_<module>_<field>` with the unit written the Prometheus way (base
 * units, spelled out), so that `promtool check metrics` finds nothing to lint
 * and dashboards need no per-module arithmetic.
 *
 * @module
 */

/** A details field as a gauge: its metric name and the factor its value is multiplied by. */
export interface DetailGauge {
  name: string;
  scale: number;
  /** What the field was, for the HELP line. */
  field: string;
}

/**
 * Unit suffixes of the modules' field names, longest first, with the
 * Prometheus suffix and factor. `_pct` becomes a 0–1 `_ratio` (Prometheus
 * keeps percentages out of names); `_per_s` is a rate per second.
 */
const UNITS: [suffix: string, replacement: string, scale: number][] = [
  ["_per_s", "_per_second", 1],
  ["_seconds", "_seconds", 1],
  ["_ms", "_seconds", 1e-3],
  ["_us", "_seconds", 1e-6],
  ["_s", "_seconds", 1],
  ["_pct", "_ratio", 0.01],
  ["_percent", "_ratio", 0.01],
  ["_kb", "_bytes", 1024],
  ["_mb", "_bytes", 1024 * 1024],
];

/**
 * Suffixes a gauge must not end in: `_total` is for counters, `_count`,
 * `_sum` and `_bucket` for histograms and summaries (promtool flags them).
 * `connections_total` (a gauge of PostgreSQL) is exported as `…_connections`.
 */
const RESERVED_SUFFIXES = ["_total", "_count", "_sum", "_bucket"];

/**
 * The gauge for `details[field]` of `module`, or undefined when the field
 * cannot make a metric name. Nested objects of numbers are flattened by the
 * caller as `field_key`.
 *
 * @example
 * ```ts
 * import { detailGauge } from "./names.ts";
 * const g = detailGauge("tcp", "connect_ms")!;
 * console.assert(g.name === "kozak_tcp_connect_seconds" && g.scale === 0.001);
 * ```
 */
export function detailGauge(module: string, field: string): DetailGauge | undefined {
  let base = snake(field);
  if (base === "") return undefined;
  let scale = 1;
  for (const [suffix, replacement, factor] of UNITS) {
    if (base.endsWith(suffix) && base.length > suffix.length) {
      base = base.slice(0, -suffix.length) + replacement;
      scale = factor;
      break;
    }
  }
  for (const suffix of RESERVED_SUFFIXES) {
    if (base.endsWith(suffix) && base.length > suffix.length) base = base.slice(0, -suffix.length);
  }
  return { name: `kozak_${snake(module)}_${base}`, scale, field };
}

/** Lower case with every run of characters outside `[a-z0-9]` as one `_`, none at the ends. */
function snake(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}
