/**
 * A fake systemctl for the systemd tests: a scenario directory holding
 * tests/fixtures/systemd/fake/systemctl and what it should answer, and a way
 * to run the check in a child process with that directory first on PATH.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { findBinary } from "./binaries.ts";
import { ROOT } from "./processes.ts";
import type { RunnerInput, RunnerOutput } from "./systemd_runner.ts";

/** Where the captured samples and the fake's answers live. */
export const SYSTEMD_FIXTURES = `${ROOT}tests/fixtures/systemd/`;

/** Where a real systemctl may be. */
export const SYSTEMCTL_PATHS = ["/usr/bin/systemctl", "/bin/systemctl"];

/** Booted with systemd as PID 1 (systemd's own sd_booted() test). */
export function bootedWithSystemd(): boolean {
  try {
    return Deno.statSync("/run/systemd/system").isDirectory;
  } catch {
    return false;
  }
}

/** The PATH of this process, for children that need the real tools. */
export function systemPath(): string[] {
  return (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
}

/** A run's results by target; fails the test unless it is one result per unit. */
export function byTarget(results: unknown): Map<string, CheckResult> {
  assert.ok(Array.isArray(results), "a run returns one result per unit");
  return new Map((results as CheckResult[]).map((r) => [r.target, r]));
}

/** What the fake does when called. */
export type FakeScenario =
  | {
    mode: "show";
    /**
     * Unit name → answer file under fake/units/. `NAME.N` answers only the
     * N-th call. Units not listed get fake/units/not-found.show.
     */
    units: Record<string, string>;
  }
  | { mode: "hang" }
  /** Hangs with a background child that keeps the output pipes open after the fake is killed. */
  | { mode: "hang-with-child" }
  | { mode: "garbage"; output: string }
  | { mode: "exit"; status: number; stderr: string };

/** A scenario directory and what the fake logged into it. */
export interface FakeSystemctl {
  dir: string;
  /** How often it was called. */
  calls(): number;
  /** The argv of the n-th call (1-based), as it arrived. */
  argv(n: number): string[];
  /** The TZ the n-th call ran with. */
  tz(n: number): string;
  /** The PID of the n-th call. */
  pid(n: number): number;
  /** The PID of the background child of `hang-with-child`, if it started one. */
  childPid(): number | undefined;
}

/** Builds a scenario directory with the fake in it. */
export async function fakeSystemctl(scenario: FakeScenario): Promise<FakeSystemctl> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-systemd-" });
  await Deno.copyFile(`${SYSTEMD_FIXTURES}fake/systemctl`, `${dir}/systemctl`);
  await Deno.chmod(`${dir}/systemctl`, 0o755);
  await Deno.mkdir(`${dir}/units`);
  await Deno.copyFile(`${SYSTEMD_FIXTURES}fake/units/not-found.show`, `${dir}/units/@not-found`);
  await Deno.writeTextFile(`${dir}/mode`, scenario.mode);
  if (scenario.mode === "show") {
    for (const [unit, answer] of Object.entries(scenario.units)) {
      await Deno.copyFile(`${SYSTEMD_FIXTURES}fake/units/${answer}`, `${dir}/units/${unit}`);
    }
  } else if (scenario.mode === "garbage") {
    await Deno.writeTextFile(`${dir}/garbage`, scenario.output);
  } else if (scenario.mode === "exit") {
    await Deno.writeTextFile(`${dir}/stderr`, scenario.stderr);
    await Deno.writeTextFile(`${dir}/status`, String(scenario.status));
  }
  const read = (name: string) => {
    try {
      return Deno.readTextFileSync(`${dir}/${name}`);
    } catch {
      return undefined;
    }
  };
  return {
    dir,
    calls: () => Number(read("calls") ?? "0"),
    argv: (n) => (read(`argv.${n}`) ?? "").split("\0").slice(0, -1),
    tz: (n) => read(`tz.${n}`) ?? "",
    pid: (n) => Number(read(`pid.${n}`)),
    childPid: () => {
      const text = read("child.pid");
      return text === undefined ? undefined : Number(text);
    },
  };
}

/**
 * True while a process with this PID exists and is not a zombie. Asks `ps`:
 * Deno grants /proc/PID only with --allow-all.
 */
export async function processExists(pid: number): Promise<boolean> {
  const { code, stdout } = await new Deno.Command("ps", {
    args: ["-o", "stat=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const stat = new TextDecoder().decode(stdout).trim();
  return code === 0 && stat !== "" && !stat.startsWith("Z");
}

/** What one runner process did. */
export interface RunnerResult {
  output: RunnerOutput;
  /** From spawning the runner to its exit, ms. */
  wallMs: number;
  code: number;
  stderr: string;
}

/**
 * Runs tests/support/systemd_runner.ts in a child process with exactly
 * `permissions` (by default `--allow-run=systemctl`, what the module needs)
 * and PATH set to `path` (the fake's directory first). The child is killed
 * if it does not exit within `limitMs`.
 */
export async function runInChild(
  input: RunnerInput,
  path: string[],
  permissions: string[] = ["--allow-run=systemctl"],
  limitMs = 20_000,
): Promise<RunnerResult> {
  // By absolute path: the child's PATH may hold no deno at all.
  const deno = findBinary(...(Deno.env.get("PATH") ?? "").split(":").map((d) => `${d}/deno`));
  if (!deno) throw new Error("deno is not on PATH");
  const env: Record<string, string> = { PATH: path.join(":"), NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const started = performance.now();
  const child = new Deno.Command(deno, {
    args: [
      "run",
      "--no-prompt",
      ...permissions,
      `${ROOT}tests/support/systemd_runner.ts`,
      JSON.stringify(input),
    ],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, limitMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const wallMs = performance.now() - started;
    const text = new TextDecoder().decode(stdout);
    const errors = new TextDecoder().decode(stderr);
    const last = text.trim().split("\n").pop() ?? "";
    if (code !== 0 || !last.startsWith("{")) {
      throw new Error(`the runner failed (exit ${code}): ${errors}${text}`);
    }
    return { output: JSON.parse(last), wallMs, code, stderr: errors };
  } finally {
    clearTimeout(timer);
  }
}

/** Makes fakes for one test (`fake(scenario)`) and removes their directories afterwards. */
export async function withFakes(
  fn: (fake: (scenario: FakeScenario) => Promise<FakeSystemctl>) => Promise<void>,
): Promise<void> {
  const made: FakeSystemctl[] = [];
  try {
    await fn(async (scenario) => {
      const one = await fakeSystemctl(scenario);
      made.push(one);
      return one;
    });
  } finally {
    for (const one of made) await Deno.remove(one.dir, { recursive: true });
  }
}

/** One run of the check in a child, with `made` first on PATH (see {@link runInChild}). */
export function runWithFake(
  made: FakeSystemctl,
  services: string,
  options: { runs?: number; timeoutMs?: number } = {},
): Promise<RunnerResult> {
  return runInChild({ services, ...options }, [made.dir, ...systemPath()]);
}
