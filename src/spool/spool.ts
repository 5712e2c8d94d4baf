/**
 * The disk spool (`QUEUE_SPOOL_DIR`): a write-ahead log of the outgoing
 * queue, so that events not yet confirmed survive a restart, a crash or an
 * OOM kill. Append-only segment files of records (record.ts): every queued
 * event is appended as it is queued, every confirmation and every drop as it
 * happens; a segment is deleted once it and every older one hold no event
 * still waiting. On start the events still waiting are read back, in order,
 * and sent first with their original `id`, `seq` and `run`.
 *
 * Durability: records are written with one `write` each, so an agent
 * process that dies (a crash, SIGKILL, an OOM kill) loses nothing the spool
 * accepted — the kernel holds it. The files are fsynced at most every
 * `syncIntervalMs` (1 s) and at a clean stop, so a power cut or a kernel
 * crash can lose the records of the last second. Torn or corrupt records are
 * skipped and counted, never a reason to refuse to start. When the disk is
 * full (or a write fails otherwise) the spool is degraded: the failure is
 * logged and counted, the agent goes on from memory, and the spool is tried
 * again (rewritten from memory) every `retryMs`.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { decodeRecords, encodeRecord, type SpoolRecord } from "./record.ts";

/** An event as the spool keeps it. */
export interface SpooledEvent {
  pos: number;
  /** Wall clock ms when the event was created (for `QUEUE_MAX_AGE_SECONDS`). */
  createdAt: number;
  data: string;
}

/** The file operations the spool uses; injectable so tests can fill the disk. */
export interface SpoolFs {
  mkdir(dir: string): void;
  list(dir: string): string[];
  read(path: string): Uint8Array;
  /** Opens for appending (created with mode 0600). */
  open(path: string): { write(bytes: Uint8Array): void; sync(): void; close(): void };
  remove(path: string): void;
}

/** The real file system. */
export const denoSpoolFs: SpoolFs = {
  mkdir(dir) {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
  },
  list: (dir) => [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name),
  read: (path) => Deno.readFileSync(path),
  open(path) {
    const file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
    Deno.chmodSync(path, 0o600); // the umask may have taken bits away, never added: make sure
    return {
      write(bytes) {
        let written = 0;
        while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      },
      sync: () => file.syncDataSync(),
      close: () => file.close(),
    };
  },
  remove: (path) => Deno.removeSync(path),
};

/** Options for {@link Spool.open}. */
export interface SpoolOptions {
  dir: string;
  log: Logger;
  /** A segment is closed and a new one begun past this size; default 4 MiB. */
  segmentBytes?: number;
  /** How often written records are fsynced; default 1 s. */
  syncIntervalMs?: number;
  /** How often a degraded spool is tried again; default 30 s. */
  retryMs?: number;
  fs?: SpoolFs;
}

interface Segment {
  name: string;
  bytes: number;
  /** Positions of the events in it, ascending. */
  events: number[];
  /** Of those, the ones dropped one by one. */
  dropped: Set<number>;
}

/** What {@link Spool.open} found on disk. */
export interface Replay {
  spool: Spool;
  /** Events still waiting, oldest first. */
  events: SpooledEvent[];
  /** Corrupt stretches skipped. */
  corrupt: number;
}

const SEGMENT = /^(\d{12})\.wal$/;

/** The spool. Open with {@link Spool.open}; close at shutdown. */
export class Spool {
  readonly #dir: string;
  readonly #fs: SpoolFs;
  readonly #log: Logger;
  readonly #segmentBytes: number;
  readonly #retryMs: number;
  readonly #segments: Segment[];
  #file: ReturnType<SpoolFs["open"]> | undefined;
  #confirmedThrough: number;
  #nextSegment: number;
  #unsynced = false;
  #syncTimer: ReturnType<typeof setInterval>;
  #degradedSince: number | undefined;
  #failures = 0;

  private constructor(options: SpoolOptions, segments: Segment[], confirmed: number) {
    this.#dir = options.dir;
    this.#fs = options.fs ?? denoSpoolFs;
    this.#log = options.log;
    this.#segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.#retryMs = options.retryMs ?? 30_000;
    this.#segments = segments;
    this.#confirmedThrough = confirmed;
    this.#nextSegment = 1 + Math.max(0, ...segments.map((s) => Number(SEGMENT.exec(s.name)![1])));
    const interval = options.syncIntervalMs ?? 1_000;
    this.#syncTimer = setInterval(() => this.sync(), interval);
    Deno.unrefTimer(this.#syncTimer);
  }

  /**
   * Opens (or creates) the spool directory and reads back what waits in it.
   * Throws only when the directory cannot be made or read at all.
   */
  static open(options: SpoolOptions): Replay {
    const fs = options.fs ?? denoSpoolFs;
    fs.mkdir(options.dir);
    const names = fs.list(options.dir).filter((n) => SEGMENT.test(n)).sort();
    const segments: Segment[] = [];
    const events = new Map<number, SpooledEvent>();
    const dropped = new Set<number>();
    let confirmed = 0;
    let corrupt = 0;
    for (const name of names) {
      const bytes = fs.read(`${options.dir}/${name}`);
      const decoded = decodeRecords(bytes);
      corrupt += decoded.corrupt;
      const segment: Segment = { name, bytes: bytes.length, events: [], dropped: new Set() };
      for (const record of decoded.records) {
        apply(record, segment, events, dropped, (p) => {
          confirmed = Math.max(confirmed, p);
        });
      }
      segment.events.sort((a, b) => a - b);
      segments.push(segment);
    }
    const waiting = [...events.values()]
      .filter((e) => e.pos > confirmed && !dropped.has(e.pos))
      .sort((a, b) => a.pos - b.pos);
    for (const segment of segments) {
      for (const pos of segment.events) if (dropped.has(pos)) segment.dropped.add(pos);
    }
    if (corrupt > 0) {
      options.log.warn("spool: corrupt or torn records skipped (after a crash or power loss?)", {
        dir: options.dir,
        corrupt,
      });
    }
    const spool = new Spool(options, segments, confirmed);
    spool.#collect();
    return { spool, events: waiting, corrupt };
  }

  /** Bytes of the spool's files on disk. */
  get bytes(): number {
    return this.#segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Writes that failed (a full disk) since start. */
  get failures(): number {
    return this.#failures;
  }

  /** True while writes fail and the agent goes on from memory. */
  get degraded(): boolean {
    return this.#degradedSince !== undefined;
  }

  /** Appends a queued event; false when the spool is degraded (the event is in memory only). */
  append(event: SpooledEvent): boolean {
    if (!this.#write({ type: "event", ...event })) return false;
    this.#segments.at(-1)!.events.push(event.pos);
    return true;
  }

  /** Every event up to `pos` was confirmed. */
  confirm(pos: number): void {
    if (pos <= this.#confirmedThrough) return;
    this.#confirmedThrough = pos;
    this.#write({ type: "confirm", pos });
    this.#collect();
  }

  /** One event was dropped (overflow, age) and counted. */
  drop(pos: number): void {
    const segment = this.#segments.find((s) => hasEvent(s.events, pos));
    if (!this.#write({ type: "drop", pos })) return;
    segment?.dropped.add(pos);
    this.#collect();
  }

  /**
   * Rewrites the spool from `waiting` (every event not yet confirmed, in
   * order) into a fresh segment and deletes the older ones: after a
   * degraded spell, and when resolved records take more room than the waiting
   * events themselves. Returns false when the rewrite failed too.
   */
  rewrite(waiting: SpooledEvent[]): boolean {
    const old = this.#segments.splice(0);
    this.#file?.close();
    this.#file = undefined;
    this.#degradedSince = undefined;
    for (const event of waiting) {
      if (!this.append(event)) {
        this.#segments.unshift(...old);
        return false;
      }
    }
    this.#write({ type: "confirm", pos: this.#confirmedThrough });
    this.sync();
    for (const segment of old) this.#remove(segment);
    return true;
  }

  /** True when a degraded spool should be tried again now. */
  retryDue(nowMs = performance.now()): boolean {
    return this.#degradedSince !== undefined && nowMs - this.#degradedSince >= this.#retryMs;
  }

  /** Flushes written records to the disk (fsync). */
  sync(): void {
    if (!this.#unsynced || !this.#file) return;
    try {
      this.#file.sync();
      this.#unsynced = false;
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Syncs and closes the current segment. */
  close(): void {
    clearInterval(this.#syncTimer);
    this.sync();
    this.#file?.close();
    this.#file = undefined;
  }

  #write(record: SpoolRecord): boolean {
    if (this.#degradedSince !== undefined) return false;
    const bytes = encodeRecord(record);
    try {
      let current = this.#segments.at(-1);
      if (!this.#file || !current || current.bytes + bytes.length > this.#segmentBytes) {
        this.#file?.close();
        const name = `${String(this.#nextSegment++).padStart(12, "0")}.wal`;
        this.#file = this.#fs.open(`${this.#dir}/${name}`);
        current = { name, bytes: 0, events: [], dropped: new Set() };
        this.#segments.push(current);
      }
      this.#file.write(bytes);
      current.bytes += bytes.length;
      this.#unsynced = true;
      return true;
    } catch (error) {
      this.#failed(error);
      return false;
    }
  }

  #failed(error: unknown): void {
    this.#failures += 1;
    if (this.#degradedSince !== undefined) return;
    this.#degradedSince = performance.now();
    try {
      this.#file?.close();
    } catch { /* already broken */ }
    this.#file = undefined;
    this.#log.error("spool: cannot write (is the disk full?); events are kept in memory only", {
      dir: this.#dir,
      error,
      failures: this.#failures,
    });
  }

  /** Deletes resolved segments from the oldest on (records only refer to older events). */
  #collect(): void {
    while (this.#segments.length > 1 && this.#resolved(this.#segments[0])) {
      this.#remove(this.#segments.shift()!);
    }
  }

  #resolved(segment: Segment): boolean {
    for (const pos of segment.events) {
      if (pos > this.#confirmedThrough && !segment.dropped.has(pos)) return false;
    }
    return true;
  }

  #remove(segment: Segment): void {
    try {
      this.#fs.remove(`${this.#dir}/${segment.name}`);
    } catch (error) {
      this.#log.warn("spool: cannot delete a delivered segment", { file: segment.name, error });
    }
  }
}

function apply(
  record: SpoolRecord,
  segment: Segment,
  events: Map<number, SpooledEvent>,
  dropped: Set<number>,
  confirm: (pos: number) => void,
): void {
  if (record.type === "event") {
    // After a rewrite that crashed half-way, an event can be in two segments: once is enough.
    if (!events.has(record.pos)) {
      events.set(record.pos, { pos: record.pos, createdAt: record.createdAt, data: record.data });
    }
    segment.events.push(record.pos);
  } else if (record.type === "confirm") {
    confirm(record.pos);
  } else {
    dropped.add(record.pos);
  }
}

/** Binary search in a segment's ascending positions. */
function hasEvent(positions: number[], pos: number): boolean {
  let lo = 0;
  let hi = positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid] < pos) lo = mid + 1;
    else hi = mid;
  }
  return positions[lo] === pos;
}
