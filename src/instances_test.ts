import assert from "node:assert/strict";
import type { CheckModule, RunContext } from "./check.ts";
import type { CheckInstance } from "./config_modules.ts";
import { loadRunners, scheduleInstances } from "./instances.ts";

function fakeModule(name: string, loads: string[], fail = false): CheckModule<{ t: string }> {
  return {
    name,
    options: [],
    parse: () => [],
    needs: () => ({}),
    load: () => {
      loads.push(name);
      if (fail) return Promise.reject(new Error("driver missing"));
      return Promise.resolve({
        run: (config) => Promise.resolve({ target: config.t, status: "ok" as const }),
      });
    },
  };
}

function unit(
  module: CheckModule<{ t: string }>,
  over: Partial<CheckInstance> & ({ ok: true; needs?: object } | { ok: false; error: string }),
): CheckInstance {
  const base = {
    module: module as CheckModule<unknown>,
    instance: module.name,
    key: `${module.name}:x`,
    targets: ["x"],
    labels: {},
    intervalMs: 1_000,
    timeoutMs: 500,
  };
  return over.ok
    ? { ...base, config: { t: "x" }, needs: {}, ...over } as CheckInstance
    : { ...base, ...over } as CheckInstance;
}

const ctx = (): RunContext => ({ signal: new AbortController().signal, memory: new Map() });
const granted = () => "granted" as const;

Deno.test("loadRunners loads each module with a runnable unit once, and no other", async () => {
  const loads: string[] = [];
  const a = fakeModule("a", loads);
  const b = fakeModule("b", loads);
  const units = [
    unit(a, { ok: true }),
    unit(a, { ok: true, key: "a:y" }),
    unit(b, { ok: false, error: "bad" }),
  ];
  const runners = await loadRunners(units);
  assert.deepEqual(loads, ["a"], "b has no runnable unit: its driver is never imported");
  assert.deepEqual([...runners.keys()], ["a"]);
});

Deno.test("scheduleInstances runs a valid unit through its module's runner", async () => {
  const a = fakeModule("a", []);
  const units = [unit(a, { ok: true })];
  const { checks, problems } = scheduleInstances(units, await loadRunners(units), granted);
  assert.deepEqual(problems, []);
  assert.deepEqual(await checks[0].run(ctx()), { target: "x", status: "ok" });
});

Deno.test("scheduleInstances turns a config error into a config failure for every target", async () => {
  const a = fakeModule("a", []);
  const units = [unit(a, { ok: false, error: "A_HOST: is required", targets: ["x", "y"] })];
  const { checks, problems } = scheduleInstances(units, await loadRunners(units), granted);
  assert.deepEqual(problems, [{ key: "a:x", reason: "config", message: "A_HOST: is required" }]);
  const results = await checks[0].run(ctx());
  assert.deepEqual(
    (results as { target: string; reason: string }[]).map((r) => [r.target, r.reason]),
    [["x", "config"], ["y", "config"]],
  );
});

Deno.test("scheduleInstances reports a missing permission, naming it", async () => {
  const a = fakeModule("a", []);
  const units = [unit(a, { ok: true, needs: { net: ["db:5432"] } })];
  const { checks, problems } = scheduleInstances(
    units,
    await loadRunners(units),
    () => "prompt",
  );
  assert.equal(problems[0].reason, "permission");
  assert.match(problems[0].message, /net db:5432/);
  const [result] = await checks[0].run(ctx()) as { reason: string }[];
  assert.equal(result.reason, "permission");
});

Deno.test("scheduleInstances reports a module that could not be loaded as internal", async () => {
  const a = fakeModule("a", [], true);
  const units = [unit(a, { ok: true })];
  const { checks, problems } = scheduleInstances(units, await loadRunners(units), granted);
  assert.equal(problems[0].reason, "internal");
  assert.match(problems[0].message, /the a module could not be loaded: driver missing/);
  const [result] = await checks[0].run(ctx()) as { reason: string }[];
  assert.equal(result.reason, "internal");
});
