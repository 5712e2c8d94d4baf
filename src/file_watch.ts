/**
 * Watches what the agent is made of — the repository's TypeScript sources and
 * the configuration files — and reports changes in debounced batches, so a
 * watching launcher restarts the agent once per save, not once per event.
 *
 * @module
 */

/** Options for {@link ChangeWatch}. */
export interface ChangeWatchOptions {
  /** The repository root; its `.ts` sources are watched recursively. */
  root: string;
  /** Quiet time after the last event before a batch is reported; default 300 ms. */
  debounceMs?: number;
}

/** Directories (any path segment) whose files never restart the agent. */
const IGNORED_DIRS = new Set(["dist", "node_modules", "tests", "bench"]);

/**
 * Whether a path relative to the repository root is an agent source: a `.ts`
 * file that is not a test, not in a hidden directory, and not in `dist/`,
 * `node_modules/`, `tests/` or `bench/`.
 */
export function isWatchedSource(relative: string): boolean {
  if (!relative.endsWith(".ts") || relative.endsWith("_test.ts")) return false;
  const dirs = relative.split("/").slice(0, -1);
  return !dirs.some((d) => d.startsWith(".") || IGNORED_DIRS.has(d));
}

/**
 * Reports changed files in batches. Changes that arrive while nobody waits
 * are kept for the next {@link ChangeWatch.changed} call, so an edit made
 * during a restart is not lost.
 */
export class ChangeWatch {
  #root: string;
  #debounceMs: number;
  #files = new Set<string>();
  #dirWatchers = new Map<string, Deno.FsWatcher>();
  #sources: Deno.FsWatcher;
  #pending = new Set<string>();
  #ready = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiter: PromiseWithResolvers<string[]> | undefined;

  constructor(options: ChangeWatchOptions) {
    this.#root = options.root.endsWith("/") ? options.root : options.root + "/";
    this.#debounceMs = options.debounceMs ?? 300;
    this.#sources = Deno.watchFs(this.#root, { recursive: true });
    this.#pump(this.#sources);
  }

  /**
   * Sets the configuration files to watch (absolute paths; they need not
   * exist yet). Their directories are watched, since editors replace files.
   */
  track(files: string[]): void {
    this.#files = new Set(files);
    const dirs = new Set(
      files.map((f) => f.slice(0, f.lastIndexOf("/") + 1) || "/")
        .filter((d) => !d.startsWith(this.#root)), // the recursive watch covers those
    );
    for (const [dir, watcher] of this.#dirWatchers) {
      if (dirs.has(dir)) continue;
      watcher.close();
      this.#dirWatchers.delete(dir);
    }
    for (const dir of dirs) {
      if (this.#dirWatchers.has(dir)) continue;
      try {
        const watcher = Deno.watchFs(dir, { recursive: false });
        this.#dirWatchers.set(dir, watcher);
        this.#pump(watcher);
      } catch { /* a missing directory: nothing in it can change either */ }
    }
  }

  /** Resolves with the next batch of changed paths (at once if one is waiting). */
  changed(): Promise<string[]> {
    if (this.#ready) return Promise.resolve(this.#take());
    this.#waiter ??= Promise.withResolvers<string[]>();
    return this.#waiter.promise;
  }

  /** Stops every watcher and timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#sources.close();
    this.#dirWatchers.forEach((w) => w.close());
    this.#dirWatchers.clear();
  }

  #take(): string[] {
    const batch = [...this.#pending].sort();
    this.#pending.clear();
    this.#ready = false;
    return batch;
  }

  #relevant(path: string): boolean {
    if (this.#files.has(path)) return true;
    return path.startsWith(this.#root) && isWatchedSource(path.slice(this.#root.length));
  }

  async #pump(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        const paths = event.paths.filter((p) => this.#relevant(p));
        if (paths.length === 0) continue;
        paths.forEach((p) => this.#pending.add(p));
        this.#ready = false;
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.#settle(), this.#debounceMs);
      }
    } catch { /* closed */ }
  }

  #settle(): void {
    this.#ready = true;
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined;
    waiter.resolve(this.#take());
  }
}
