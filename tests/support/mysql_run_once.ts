/**
 * Runs the `mysql` check once in its own process and prints
 * `{ result, elapsedMs }` as one JSON line. The tests start it with exactly the permissions the module's
 * `needs()` lists, and with `DENO_CERT` for a private CA.
 *
 * Usage: `deno run --allow-net=<needs> tests/support/mysql_run_once.ts '<env as JSON>' [deadline ms]`
 *
 * @module
 */

import { mysql } from "../../checks/mysql/mod.ts";

const vars: Record<string, string> = JSON.parse(Deno.args[0] ?? "{}");
const deadlineMs = Number(Deno.args[1] ?? 5_000);
const [spec] = mysql.parse((name) => vars[name]);
if (!spec.ok) {
  console.log(JSON.stringify({ configError: spec.error }));
} else {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadlineMs);
  const started = performance.now();
  const result = await (await mysql.load()).run(spec.config, {
    signal: controller.signal,
    memory: new Map(),
  });
  const elapsedMs = performance.now() - started;
  clearTimeout(timer);
  console.log(JSON.stringify({ result, elapsedMs }));
}
