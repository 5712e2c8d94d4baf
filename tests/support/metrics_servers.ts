/**
 * Real Prometheus-world servers for tests (Debian's `prometheus`,
 * `promtool` and `victoria-metrics`), started on a free loopback port with
 * their storage in a temp dir, stopped by PID.
 *
 * @module
 */

import { collectLines, stopChild } from "./child.ts";
import { freePort, retryOnPortClash } from "./binaries.ts";
import { waitFor } from "./processes.ts";

export const PROMETHEUS = "/usr/bin/prometheus";
export const PROMTOOL = "/usr/bin/promtool";
export const VICTORIA_METRICS = "/usr/bin/victoria-metrics";

/** A running server: its base URL, its output, and stop (SIGTERM, SIGKILL after 10 s). */
export interface RunningServer {
  url: string;
  port: number;
  output: string[];
  stop(): Promise<void>;
}

function spawn(binary: string, args: string[]): { child: Deno.ChildProcess; output: string[] } {
  const child = new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  collectLines(child.stdout, output);
  collectLines(child.stderr, output);
  return { child, output };
}

async function ready(url: string, what: string, child: Deno.ChildProcess, output: string[]) {
  let exited = false;
  child.status.then(() => exited = true);
  await waitFor(`${what} to be ready`, async () => {
    if (exited) throw new Error(`${what} exited:\n${output.join("\n")}`);
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }, 30_000);
}

/** Prometheus scraping `targets` (host:port) every second with `honor_labels: true`. */
export function startPrometheus(dir: string, targets: string[]): Promise<RunningServer> {
  return retryOnPortClash(() => startPrometheusOnce(dir, targets));
}

async function startPrometheusOnce(dir: string, targets: string[]): Promise<RunningServer> {
  const port = freePort();
  const config = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "scrape_configs:",
      "  - job_name: kozak",
      "    honor_labels: true",
      "    static_configs:",
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
      "",
    ].join("\n"),
  );
  const { child, output } = spawn(PROMETHEUS, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${dir}/tsdb`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await ready(`${url}/-/ready`, "prometheus", child, output);
  return { url, port, output, stop: async () => void await stopChild(child, 10_000) };
}

/** VictoriaMetrics with its data in `dir`; `port` 0 picks a free one (pass the old one to restart). */
export function startVictoriaMetrics(dir: string, port = 0): Promise<RunningServer> {
  // A given port is the old server's, to restart on: no other one will do.
  return port ? startVictoriaOnce(dir, port) : retryOnPortClash(() => startVictoriaOnce(dir, 0));
}

async function startVictoriaOnce(dir: string, port: number): Promise<RunningServer> {
  const chosen = port || freePort();
  const { child, output } = spawn(VICTORIA_METRICS, [
    `-storageDataPath=${dir}`,
    `-httpListenAddr=127.0.0.1:${chosen}`,
    // Fresh samples are queryable at once (the default hides the last 30 s).
    "-search.latencyOffset=0s",
    "-retentionPeriod=100y",
    "-loggerLevel=ERROR",
  ]);
  const url = `http://127.0.0.1:${chosen}`;
  await ready(`${url}/health`, "victoria-metrics", child, output);
  return { url, port: chosen, output, stop: async () => void await stopChild(child, 10_000) };
}

/** `promtool check metrics` of an exposition: its exit code and what it said. */
export async function promtoolCheck(exposition: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(exposition));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, output: (decode(stdout) + decode(stderr)).trim() };
}

/** One instant query of a Prometheus-compatible API: the result vector. */
export async function query(
  base: string,
  promql: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await response.json();
  if (body.status !== "success") throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result;
}
