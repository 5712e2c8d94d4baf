/**
 * Loss detection for the mock: which events an agent created but never
 * delivered, per (`agent`, `run`) as the contract says, and which arrivals are
 * resends of an event already seen (same `id`).
 *
 * An event is counted once however often it is resent, so that `missing` is
 * exact: the highest `seq` of a run minus the distinct events of that run that
 * arrived (an event that arrives late, out of order, fills its gap again).
 *
 * @module
 */

/** What one arrival means for its run. */
export interface SeqVerdict {
  /** Its `id` was seen before: a resend, counted nowhere else. */
  resend: boolean;
  /** Events missing right before this one (its seq jumped ahead). */
  gap: number;
  /** The first event of a new run of an agent already known: the agent restarted. */
  restart: boolean;
  /** How much the agent's `missing` changed (negative when a late event filled a gap). */
  missingDelta: number;
}

/** One run as served by the API. */
export interface RunView {
  run: string;
  /** The lowest seq this run is counted from (earlier ones the mock could not have seen). */
  first_seq: number;
  last_seq: number;
  /** Distinct events of this run that arrived. */
  received: number;
  missing: number;
}

interface RunCount {
  run: string;
  /** Seqs up to here are not counted as missing. */
  base: number;
  max: number;
  received: number;
}

/** Options for {@link SeqTracker}. */
export interface SeqTrackerOptions {
  /** Ids remembered for resend detection, oldest forgotten first. Default 100,000. */
  maxIds?: number;
  /** Runs remembered per agent, oldest forgotten first. Default 16. */
  maxRunsPerAgent?: number;
}

const missingOf = (r: RunCount) => Math.max(0, r.max - r.base - r.received);

/** Counts seq gaps per (agent, run) and recognises resends by id. */
export class SeqTracker {
  readonly #ids = new Set<string>();
  readonly #runs = new Map<string, Map<string, RunCount>>(); // agent → run → counts
  readonly #maxIds: number;
  readonly #maxRuns: number;

  constructor(options: SeqTrackerOptions = {}) {
    this.#maxIds = options.maxIds ?? 100_000;
    this.#maxRuns = options.maxRunsPerAgent ?? 16;
  }

  /**
   * Records one arrival. `id` may be missing (an invalid event): such an
   * arrival is never a resend. The first run of an agent the mock has never
   * seen counts from its first seq (the mock may have started later); a later
   * new run counts from 1, so events lost before its first delivery show up.
   */
  observe(agent: string, run: string, seq: number, id?: string): SeqVerdict {
    if (id !== undefined) {
      if (this.#ids.has(id)) return { resend: true, gap: 0, restart: false, missingDelta: 0 };
      this.#ids.add(id);
      if (this.#ids.size > this.#maxIds) this.#ids.delete(this.#ids.values().next().value!);
    }
    let runs = this.#runs.get(agent);
    const knownAgent = runs !== undefined;
    if (runs === undefined) this.#runs.set(agent, runs = new Map());
    let count = runs.get(run);
    if (count === undefined) {
      count = { run, base: knownAgent ? 0 : seq - 1, max: seq - 1, received: 0 };
      runs.set(run, count);
      if (runs.size > this.#maxRuns) runs.delete(runs.keys().next().value!);
      const gap = seq - 1 - count.base;
      count.max = seq;
      count.received = 1;
      return { resend: false, gap, restart: knownAgent, missingDelta: gap };
    }
    const before = missingOf(count);
    const gap = Math.max(0, seq - count.max - 1);
    if (seq <= count.base) count.base = seq - 1; // an earlier event than any counted so far
    count.max = Math.max(count.max, seq);
    count.received++;
    return { resend: false, gap, restart: false, missingDelta: missingOf(count) - before };
  }

  /** The agent's remembered runs, oldest first. */
  runs(agent: string): RunView[] {
    return [...this.#runs.get(agent)?.values() ?? []].map((r) => ({
      run: r.run,
      first_seq: r.base + 1,
      last_seq: r.max,
      received: r.received,
      missing: missingOf(r),
    }));
  }

  /** Forgets an agent's runs (its ids stay, so a resend is still recognised). */
  forget(agent: string): void {
    this.#runs.delete(agent);
  }
}
