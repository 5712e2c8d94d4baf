/**
 * The remote-write sender: every interval it adds the agent's own series to
 * the {@link SampleQueue} and pushes everything queued, oldest first, in
 * requests of at most `maxSamplesPerRequest` samples. A push that fails
 * (network, timeout, 5xx) is retried with the transport's capped backoff and
 * the samples stay queued with their own timestamps, so a receiver outage is
 * backfilled when it returns; 429 waits as long as `Retry-After` says; any
 * other 4xx (400: a sample the receiver refuses) is never retried — the
 * samples are dropped and counted, or they would block the queue forever.
 *
 * @module
 */

import { backoffDelay } from "../backoff.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { Waker } from "../waker.ts";
import type { RemoteSample, SampleQueue } from "./sample_queue.ts";

/** Options for {@link RemoteWriter}; defaults are documented on each field. */
export interface RemoteWriterOptions {
  url: URL;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  intervalMs: number;
  queue: SampleQueue;
  /** The request body for some batches (see remote_write_encode.ts). */
  encode: (batches: readonly RemoteSample[][]) => Uint8Array;
  /** The agent's own samples at this moment (Unix ms), queued every interval. */
  collect: (nowMs: number) => RemoteSample[];
  clock: Clock;
  /** Wall clock, Unix ms; default `Date.now`. */
  now?: () => number;
  /** A number in [0, 1); default `Math.random`. */
  random?: () => number;
  /** default the global `fetch`. */
  fetch?: typeof fetch;
  log: Logger;
  /** Default 10,000 (VictoriaMetrics and Prometheus take far more). */
  maxSamplesPerRequest?: number;
  /** A request still unanswered after this is abandoned and retried; default 10 s. */
  requestTimeoutMs?: number;
  /** Backoff bounds; default 1 s doubling to 30 s. */
  backoff?: { baseMs: number; maxMs: number };
}

/** What one push came to. */
type PushResult = { kind: "ok" } | { kind: "refused" } | { kind: "retry"; afterMs?: number };

/** The longest `Retry-After` honoured: a receiver's typo must not silence the agent for a day. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** The sender. {@link start} once; {@link stop} at shutdown. */
export class RemoteWriter {
  readonly #o: RemoteWriterOptions;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #waker: Waker;
  #stopping = false;
  #deadline = Infinity;
  #loop: Promise<void> | undefined;
  #inFlight: AbortController | undefined;
  #sent = 0;
  #failed = 0;
  #lastSuccessMs = 0;
  #lastError: string | undefined;

  constructor(options: RemoteWriterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#waker = new Waker(options.clock);
  }

  /** Samples accepted, failed pushes, the last success (Unix ms, 0 before) and the last failure while it lasts. */
  get stats(): { sent: number; failed: number; lastSuccessMs: number; lastError?: string } {
    return {
      sent: this.#sent,
      failed: this.#failed,
      lastSuccessMs: this.#lastSuccessMs,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Starts the interval; the first push is one interval after start. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Queues the agent's series one last time and pushes what is queued for
   * at most `flushMs`; then abandons the rest.
   */
  async stop(flushMs: number): Promise<void> {
    this.#stopping = true;
    this.#deadline = this.#o.clock.now() + flushMs;
    const timer = this.#o.clock.setTimeout(() => this.#inFlight?.abort(), flushMs);
    this.#waker.wake();
    await this.#loop;
    this.#o.clock.clearTimeout(timer);
  }

  async #run(): Promise<void> {
    const { clock, intervalMs, queue } = this.#o;
    let nextTick = clock.now() + intervalMs;
    let retryAt = -Infinity;
    let attempt = 0;
    while (true) {
      const now = clock.now();
      if (this.#stopping) {
        queue.push(this.#o.collect(this.#now()));
        // One try per batch group until the deadline; failures are not waited out.
        while (queue.size > 0 && clock.now() < this.#deadline) {
          if ((await this.#push()).kind === "retry") break;
        }
        return;
      }
      if (now >= nextTick) {
        queue.push(this.#o.collect(this.#now()));
        nextTick += Math.max(1, Math.ceil((now - nextTick + 1) / intervalMs)) * intervalMs;
      }
      if (queue.size > 0 && now >= retryAt) {
        const result = await this.#push();
        if (result.kind === "retry") {
          retryAt = clock.now() +
            Math.max(
              result.afterMs ?? 0,
              backoffDelay(attempt, this.#o.random ?? Math.random, this.#o.backoff),
            );
          attempt += 1;
        } else {
          attempt = 0;
          retryAt = -Infinity;
          continue; // drain the backlog at once, request after request
        }
      }
      const wakeAt = retryAt > clock.now() ? Math.min(nextTick, retryAt) : nextTick;
      await this.#waker.wait(wakeAt - clock.now());
    }
  }

  /** One request of the oldest queued batches. */
  async #push(): Promise<PushResult> {
    const { queue, log } = this.#o;
    const batches = queue.begin(this.#o.maxSamplesPerRequest ?? 10_000);
    const samples = batches.reduce((n, b) => n + b.length, 0);
    if (samples === 0) {
      queue.abort();
      return { kind: "ok" };
    }
    const result = await this.#request(this.#o.encode(batches));
    if (result.kind === "retry") {
      queue.abort();
      this.#failed += 1;
      return result;
    }
    queue.commit();
    if (result.kind === "refused") {
      queue.drop(samples);
      return result;
    }
    this.#sent += samples;
    this.#lastSuccessMs = this.#now();
    if (this.#lastError !== undefined) {
      log.info("remote write works again", { url: this.#o.url.href, queued: queue.size });
      this.#lastError = undefined;
    }
    return result;
  }

  async #request(body: Uint8Array): Promise<PushResult> {
    const controller = new AbortController();
    this.#inFlight = controller;
    const timer = this.#o.clock.setTimeout(
      () => controller.abort(new DOMException("no answer in time", "TimeoutError")),
      this.#o.requestTimeoutMs ?? 10_000,
    );
    const headers: Record<string, string> = {
      "Content-Encoding": "snappy",
      "Content-Type": "application/x-protobuf",
      "User-Agent": `kozak-agent/${VERSION}`,
      "X-Prometheus-Remote-Write-Version": "0.1.0",
    };
    if (this.#o.token) headers.Authorization = `Bearer ${this.#o.token}`;
    try {
      const response = await this.#fetch(this.#o.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal: controller.signal,
      });
      const text = (await response.text()).slice(0, 300).trim();
      if (response.ok) return { kind: "ok" };
      const why = `HTTP ${response.status}${text ? `: ${text}` : ""}`;
      if (response.status === 429 || response.status >= 500) {
        this.#failing(why);
        return {
          kind: "retry",
          afterMs: retryAfterMs(response.headers.get("retry-after"), this.#now()),
        };
      }
      this.#o.log.warn("remote write refused a push; its samples are dropped, not retried", {
        url: this.#o.url.href,
        status: response.status,
        answer: text,
      });
      return { kind: "refused" };
    } catch (error) {
      this.#failing((error as Error).message ?? String(error));
      return { kind: "retry" };
    } finally {
      this.#o.clock.clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }

  /** Logs a failure once per change of its text; retries are not logged one by one. */
  #failing(why: string): void {
    if (why !== this.#lastError) {
      this.#o.log.warn("remote write failed; samples stay queued and are retried with backoff", {
        url: this.#o.url.href,
        error: why,
        queued: this.#o.queue.size,
      });
    }
    this.#lastError = why;
  }
}

/**
 * `Retry-After` in ms from now: seconds, or an HTTP date; undefined when
 * absent or unreadable; at most ten minutes.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - nowMs;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}
