/**
 * The memory reference: an empty Deno program that only awaits a timer, so
 * its peak RSS can be read from /proc; the bench ends it by PID.
 *
 *   deno run bench/child/idle.ts
 *
 * @module
 */

if (import.meta.main) {
  console.log("ready");
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
