/**
 * Runs the systemd check the way the agent would, in its own process, and
 * prints what it returned as one JSON line. The systemd tests start it with
 * exactly `--allow-run=systemctl` and a PATH whose first entry holds a fake
 * systemctl (Deno resolves `--allow-run=systemctl` through PATH when the
 * process starts, so the fake must be chosen before that).
 *
 * Usage: deno run --allow-run=systemctl systemd_runner.ts '{"services":"a,b","runs":2,"timeoutMs":500}'
 *
 * @module
 */

import { systemd } from "../../checks/systemd/mod.ts";
import { unitConfig } from "./specs.ts";

/** What the runner is asked to do. */
export interface RunnerInput {
  /** The value of SYSTEMD_SERVICES. */
  services: string;
  /** Runs of the one instance, sharing its memory (default 1). */
  runs?: number;
  /** The deadline of each run (default 2000 ms). */
  timeoutMs?: number;
}

/** What the runner prints. */
export interface RunnerOutput {
  specs: { name: string; targets: string[]; configError?: string }[];
  runs: { elapsedMs: number; results: unknown; phases: string[] }[];
}

if (import.meta.main) {
  const input: RunnerInput = JSON.parse(Deno.args[0]);
  const specs = systemd.parse((name) => (name === "SYSTEMD_SERVICES" ? input.services : undefined));
  const output: RunnerOutput = {
    specs: specs.map((s) => ({
      name: s.name,
      targets: s.targets,
      ...(s.ok ? {} : { configError: s.error }),
    })),
    runs: [],
  };
  const runnable = specs.find((s) => s.ok);
  const memory = new Map<string, unknown>();
  for (let i = 0; runnable && i < (input.runs ?? 1); i++) {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException("deadline reached", "TimeoutError")),
      input.timeoutMs ?? 2000,
    );
    const started = performance.now();
    const phases: string[] = [];
    try {
      const results = await (await systemd.load()).run(unitConfig(runnable), {
        signal: controller.signal,
        memory,
        phase: (name) => phases.push(name),
      });
      output.runs.push({ elapsedMs: performance.now() - started, results, phases });
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(JSON.stringify(output));
}
