/**
 * Real-server tests skip only when the server's binary is missing and CI is
 * unset; in CI (CI set) they always run, so a missing package fails loudly.
 *
 * @module
 */

/** The first of `paths` that exists, or undefined. */
export function findBinary(...paths: string[]): string | undefined {
  for (const path of paths) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return undefined;
}

/** `ignore` for Deno.test: true only when the binary is missing outside CI. */
export function skipUnlessAvailable(...paths: string[]): boolean {
  return findBinary(...paths) === undefined && !Deno.env.get("CI");
}

/**
 * Runs `start` again, up to `attempts` times, when it failed because the free
 * port it chose was taken before its server bound it: another test or another
 * run on this host can get the same port between {@link freePort} and the bind.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= attempts || !/address already in use/i.test(message)) throw error;
    }
  }
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
