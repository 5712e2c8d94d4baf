/**
 * The scale reference in its own process: one `Deno.connect` + close to
 * every port listed in a file (one per line), `concurrency` at a time. Prints
 * `{"ms":…,"ok":…}` and then waits, so the bench can read its peak RSS from
 * /proc before it ends it by PID.
 *
 *   deno run --allow-read=PORTS_FILE --allow-net=127.0.0.1 bench/child/bare_connect.ts PORTS_FILE 64
 *
 * @module
 */

if (import.meta.main) {
  const [file, concurrencyText] = Deno.args;
  const ports = (await Deno.readTextFile(file)).trim().split("\n").map(Number);
  const concurrency = Number(concurrencyText);
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < ports.length) {
      const port = ports[next++];
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
        ok += 1;
      } catch { /* counted as not ok */ }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(JSON.stringify({ ms: performance.now() - started, ok }));
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
