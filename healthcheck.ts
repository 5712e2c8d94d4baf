/**
 * Container health checks.
 *
 *   deno run --allow-env=AGENT_STATUS_FILE --allow-read=<file> healthcheck.ts
 *     exits 0 when the agent's status file (`AGENT_STATUS_FILE`) was written
 *     within the last 30 s, else 1.
 *   deno run --allow-net=HOST:PORT healthcheck.ts --url http://HOST:PORT/stats
 *     exits 0 when the URL answers 2xx within 5 s (the mock monitoring server).
 *
 * @module
 */

import { judgeStatus, parseStatus } from "./src/status_file.ts";

async function probeUrl(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    console.log(`${url}: ${response.status}`);
    return response.ok ? 0 : 1;
  } catch (error) {
    console.error(`${url}: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main && Deno.args[0] === "--url") {
  Deno.exit(await probeUrl(Deno.args[1] ?? ""));
}

if (import.meta.main) {
  const path = Deno.env.get("AGENT_STATUS_FILE");
  if (!path) {
    console.error("AGENT_STATUS_FILE is not set");
    Deno.exit(1);
  }
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    console.error(`cannot read ${path}: ${(error as Error).message}`);
    Deno.exit(1);
  }
  const verdict = judgeStatus(parseStatus(text), Date.now(), 30_000);
  (verdict.healthy ? console.log : console.error)(verdict.message);
  Deno.exit(verdict.healthy ? 0 : 1);
}
