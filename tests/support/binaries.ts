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

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
