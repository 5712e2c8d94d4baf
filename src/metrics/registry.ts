/**
 * The check series: one per (instance, target), made when its first outcome
 * arrives, with its label set fixed then (a series whose labels change from
 * scrape to scrape breaks every query that follows it). It keeps the last
 * run and the failure counters; {@link MetricsRegistry.retain} lets a
 * configuration reload keep the series — and so the counters — of the
 * instances that stay, and drop the others.
 *
 * @module
 */

import type { Reason, Status } from "../check.ts";
import type { CheckOutcome } from "../protocol.ts";
import { type FamilyDef, labelPairs, renderFamily, sampleLine } from "./exposition.ts";
import { CHECK_FAMILIES, FIXED_NAMES } from "./families.ts";
import { detailGauge } from "./names.ts";

/** A label: name and value. */
export type Label = readonly [name: string, value: string];

/** One value of a series for one family (plus the family's own label, e.g. `status`). */
export interface Point {
  family: FamilyDef;
  extra?: Label;
  value: number;
}

/** One instance's last run, as the status file and `deno task status` show it. */
export interface InstanceState {
  instance: string;
  module: string;
  target: string;
  status: Status;
  reason?: string;
  message?: string;
  /** When the run ended (RFC 3339, UTC). */
  at: string;
  duration_ms: number;
}

/** An instance as the configuration describes it, for {@link MetricsRegistry.retain}. */
export interface InstanceIdentity {
  instance: string;
  module: string;
  labels: Readonly<Record<string, string>>;
}

const STATUSES: readonly Status[] = ["ok", "warn", "error"];
/** Labels the agent sets itself; an instance label of the same name is left out (the checks file refuses them anyway). */
const OWN_LABELS = new Set(["agent", "module", "instance", "target", "status", "reason"]);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** At most this many details gauges per series: a module with a runaway details object cannot flood the scrape. */
export const MAX_DETAIL_GAUGES = 64;

/** One (instance, target): its fixed labels and its last run. */
export class CheckSeries {
  readonly module: string;
  readonly instance: string;
  readonly target: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The target as labels and the status file show it (redacted). */
  readonly shownTarget: string;
  /** {@link pairs} as the exposition writes them. */
  readonly labelText: string;
  readonly #agent: string;
  readonly #redact: (text: string) => string;
  status: Status = "ok";
  reason?: Reason;
  message?: string;
  durationMs = 0;
  endMs = 0;
  /** Runs with status error, by reason (made at the first: most series never fail). */
  failures?: Map<string, number>;
  /** The last run's numeric details, as gauges (value already scaled). */
  details: [FamilyDef, number][] = [];
  /** Made at the first remote write: without one, no series pays for it. */
  #remoteLabels?: Map<string, readonly Label[]>;

  constructor(agent: string, outcome: CheckOutcome, redact: (text: string) => string) {
    this.module = outcome.module;
    this.instance = outcome.instance ?? outcome.module;
    this.target = outcome.target;
    this.labels = { ...outcome.labels };
    this.shownTarget = redact(this.target);
    this.#agent = agent;
    this.#redact = redact;
    this.labelText = labelPairs(this.pairs);
  }

  /**
   * Every label of the series, sorted by name. Made when asked (for the
   * exposition text once, and by remote write): at 10,000 series, held
   * pairs came to MBs of small arrays.
   */
  get pairs(): Label[] {
    const pairs: Label[] = [
      ["agent", this.#agent],
      ["module", this.module],
      ["instance", this.instance],
      ["target", this.shownTarget],
    ];
    for (const [name, value] of Object.entries(this.labels)) {
      if (LABEL_NAME.test(name) && !name.startsWith("__") && !OWN_LABELS.has(name)) {
        pairs.push([name, this.#redact(value)]);
      }
    }
    return pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Every value of this series now: the check families, then the details gauges. */
  points(): Point[] {
    const points: Point[] = [{ family: CHECK_FAMILIES.up, value: this.status === "error" ? 0 : 1 }];
    for (const status of STATUSES) {
      const value = status === this.status ? 1 : 0;
      points.push({ family: CHECK_FAMILIES.status, extra: ["status", status], value });
    }
    points.push({ family: CHECK_FAMILIES.duration, value: tidy(this.durationMs / 1000) });
    points.push({ family: CHECK_FAMILIES.lastRun, value: this.endMs / 1000 });
    for (const [reason, value] of this.failures ?? []) {
      points.push({ family: CHECK_FAMILIES.failures, extra: ["reason", reason], value });
    }
    for (const [family, value] of this.details) points.push({ family, value });
    return points;
  }

  /**
   * The full label set of a point for remote write — `__name__`, the
   * series' labels and the point's own, sorted by name as remote write 1.0
   * requires — made once per point and then shared by all its samples.
   */
  remoteLabels(point: Point): readonly Label[] {
    const key = point.extra ? `${point.family.name}\u0000${point.extra[1]}` : point.family.name;
    this.#remoteLabels ??= new Map();
    let labels = this.#remoteLabels.get(key);
    if (!labels) {
      const all: Label[] = [["__name__", point.family.name], ...this.pairs];
      if (point.extra) all.push(point.extra);
      labels = all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.#remoteLabels.set(key, labels);
    }
    return labels;
  }
}

/** Options for {@link MetricsRegistry}. */
export interface RegistryOptions {
  agent: string;
  /** Applied to every label value and message taken from an outcome; default none. */
  redact?: (text: string) => string;
}

/** Every check series of the agent. */
export class MetricsRegistry {
  readonly #agent: string;
  readonly #redact: (text: string) => string;
  readonly #series = new Map<string, CheckSeries>();
  /** Details families by metric name. */
  readonly #detailFamilies = new Map<string, FamilyDef>();
  /** Details fields by module and field; null for a field that makes no gauge. */
  readonly #detailGauges = new Map<string, DetailFamily | null>();

  constructor(options: RegistryOptions) {
    this.#agent = options.agent;
    this.#redact = options.redact ?? ((text) => text);
  }

  /** How many series there are. */
  get size(): number {
    return this.#series.size;
  }

  /** The series, in the order they were made. */
  series(): IterableIterator<CheckSeries> {
    return this.#series.values();
  }

  /** Takes one outcome; `endMs` is when its run ended (wall clock). Returns its series. */
  record(outcome: CheckOutcome, endMs: number): CheckSeries {
    const key = `${outcome.instance ?? outcome.module}\u0000${outcome.target}`;
    let series = this.#series.get(key);
    if (!series) {
      series = new CheckSeries(this.#agent, outcome, this.#redact);
      this.#series.set(key, series);
    }
    series.status = outcome.status;
    series.reason = outcome.status === "ok" ? undefined : outcome.reason ?? "internal";
    series.message = outcome.message ? this.#redact(outcome.message) : undefined;
    series.durationMs = outcome.duration_ms;
    series.endMs = endMs;
    if (outcome.status === "error") {
      const reason = series.reason ?? "internal";
      series.failures ??= new Map();
      series.failures.set(reason, (series.failures.get(reason) ?? 0) + 1);
    }
    series.details = this.#detailPoints(series.module, outcome.details ?? {});
    return series;
  }

  /**
   * Keeps the series of the instances given (same name, module and labels)
   * and removes every other one — for a reload, so that the counters of an
   * unchanged instance go on and a changed one starts afresh under its new
   * labels. Returns how many series were removed.
   */
  retain(instances: Iterable<InstanceIdentity>): number {
    const keep = new Map<string, string>();
    for (const i of instances) keep.set(i.instance, identity(i.module, i.labels));
    let removed = 0;
    for (const [key, series] of this.#series) {
      if (keep.get(series.instance) === identity(series.module, series.labels)) continue;
      this.#series.delete(key);
      removed += 1;
    }
    return removed;
  }

  /** Appends every check family to `out`, each family's lines together. */
  render(out: string[]): void {
    const buckets = new Map<FamilyDef, string[]>(
      Object.values(CHECK_FAMILIES).map((f) => [f, []]),
    );
    for (const series of this.#series.values()) {
      for (const point of series.points()) {
        let lines = buckets.get(point.family);
        if (!lines) buckets.set(point.family, lines = []);
        const labels = point.extra
          ? `${series.labelText},${labelPairs([point.extra])}`
          : series.labelText;
        lines.push(sampleLine(point.family.name, labels, point.value));
      }
    }
    for (const [family, lines] of buckets) renderFamily(out, family, lines);
  }

  /** Each series' last run, sorted by instance and target. */
  states(): InstanceState[] {
    return [...this.#series.values()]
      // Plain code-unit order: stable across locales, and no ICU on this path.
      .sort((a, b) => compare(a.instance, b.instance) || compare(a.target, b.target))
      .map((s) => ({
        instance: s.instance,
        module: s.module,
        target: s.shownTarget,
        status: s.status,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.message ? { message: s.message } : {}),
        at: new Date(s.endMs).toISOString(),
        duration_ms: s.durationMs,
      }));
  }

  /** The numeric details (and one level of nested objects of numbers) as gauges. */
  #detailPoints(module: string, details: Record<string, unknown>): [FamilyDef, number][] {
    const out: [FamilyDef, number][] = [];
    const seen = new Set<FamilyDef>();
    const add = (field: string, value: number) => {
      if (out.length >= MAX_DETAIL_GAUGES) return;
      const gauge = this.#detailGauge(module, field);
      // Two fields may map to one name (`x_ms`, `x_s`): the first one wins.
      if (!gauge || seen.has(gauge.family)) return;
      seen.add(gauge.family);
      out.push([gauge.family, gauge.scale === 1 ? value : tidy(value * gauge.scale)]);
    };
    for (const [field, value] of Object.entries(details)) {
      if (typeof value === "number") add(field, value);
      else if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) {
          if (typeof inner === "number") add(`${field}_${key}`, inner);
        }
      }
    }
    return out;
  }

  /** The family and factor of one details field, made once per (module, field). */
  #detailGauge(module: string, field: string): DetailFamily | undefined {
    const key = `${module}\u0000${field}`;
    const cached = this.#detailGauges.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const gauge = detailGauge(module, field);
    let made: DetailFamily | null = null;
    if (gauge && !FIXED_NAMES.has(gauge.name)) {
      let family = this.#detailFamilies.get(gauge.name);
      if (!family) {
        const unit = gauge.scale === 1 ? "" : `, converted to ${gauge.name.split("_").pop()}`;
        family = {
          name: gauge.name,
          type: "gauge",
          help: `details.${field} of the ${module} check${unit}.`,
        };
        this.#detailFamilies.set(gauge.name, family);
      }
      made = { family, scale: gauge.scale };
    }
    this.#detailGauges.set(key, made);
    return made ?? undefined;
  }
}

interface DetailFamily {
  family: FamilyDef;
  scale: number;
}

/** A product without its binary noise (0.3 ms is 0.0003 s, not 0.00030000000000000003). */
function tidy(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : value;
}

function identity(module: string, labels: Readonly<Record<string, string>>): string {
  return JSON.stringify([module, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
