/**
 * The systemd check against this host's real systemctl. Where systemd is
 * PID 1 (`/run/systemd/system` exists, as on CI runners) it must report the
 * real state of units that exist there (`init.scope`, PID 1's own scope, is
 * always active) and not know a made-up one; where it is not (these
 * machines), every unit is `unavailable` with systemctl's own words, not a
 * misleading `inactive`. Neither case is skipped.
 */

import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  bootedWithSystemd,
  byTarget,
  runInChild,
  SYSTEMCTL_PATHS,
  systemPath,
} from "../../tests/support/systemd_fake.ts";
import { unitConfig } from "../../tests/support/specs.ts";
import { systemd } from "./mod.ts";
import { systemctlArgs } from "./run.ts";

/** A unit no host has. */
const NO_SUCH_UNIT = `kozak-no-such-unit-${crypto.randomUUID().slice(0, 8)}.service`;
const SERVICES = `init.scope,${NO_SUCH_UNIT}`;

/** What systemctl itself answers here for `units`, asked the way the module asks. */
async function askDirectly(units: string[]) {
  const output = await new Deno.Command("systemctl", {
    args: systemctlArgs(units),
    env: { TZ: "UTC" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** On a host booted with systemd: the states systemd itself reports. */
async function assertRealState(results: Map<string, CheckResult>): Promise<void> {
  const direct = await askDirectly(["init.scope"]);
  assert.equal(direct.code, 0, direct.stderr);
  const said = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(direct.stdout)?.[1];
  assert.equal(said("ActiveState"), "active", "PID 1's scope is active wherever systemd runs");

  const init = results.get("init.scope")!;
  assert.equal(init.status, "ok", JSON.stringify(init));
  assert.equal(init.reason, undefined);
  assert.equal(init.details?.unit, "init.scope");
  assert.equal(init.details?.load_state, said("LoadState"));
  assert.equal(init.details?.active_state, said("ActiveState"));
  assert.equal(init.details?.sub_state, said("SubState"));
  assert.equal(init.details?.sub_state, "running");

  const missing = results.get(NO_SUCH_UNIT)!;
  assert.equal(missing.status, "error", JSON.stringify(missing));
  assert.equal(missing.reason, "config");
  assert.equal(missing.details?.load_state, "not-found");
  assert.match(missing.message ?? "", /no such unit/);
}

/** On a host without systemd as PID 1: unavailable, in systemctl's own words. */
async function assertUnavailable(results: Map<string, CheckResult>): Promise<void> {
  const direct = await askDirectly(["init.scope"]);
  assert.notEqual(direct.code, 0);
  const words = direct.stderr.split("\n")[0].trim();
  assert.ok(words.length > 0);
  for (const result of results.values()) {
    assert.equal(result.status, "error");
    assert.equal(result.reason, "unavailable", "not a misleading inactive");
    assert.ok(result.message?.includes(words), result.message);
    assert.match(result.message ?? "", new RegExp(`exited with status ${direct.code}: \\S`));
    assert.deepEqual(result.details, { phase: "exec" });
  }
}

async function assertHostAnswer(results: unknown): Promise<void> {
  const byUnit = byTarget(results);
  assert.deepEqual([...byUnit.keys()], ["init.scope", NO_SUCH_UNIT]);
  if (bootedWithSystemd()) await assertRealState(byUnit);
  else await assertUnavailable(byUnit);
}

Deno.test({
  name: "systemd asks the real systemctl: the real state under systemd, unavailable without it",
  ignore: skipUnlessAvailable(...SYSTEMCTL_PATHS),
  fn: async () => {
    const [spec] = systemd.parse((name) => (name === "SYSTEMD_SERVICES" ? SERVICES : undefined));
    const phases: string[] = [];
    const results = await (await systemd.load()).run(unitConfig(spec), {
      signal: AbortSignal.timeout(5000),
      memory: new Map(),
      phase: (name) => phases.push(name),
    });
    assert.deepEqual(phases, ["exec"]);
    await assertHostAnswer(results);
  },
});

Deno.test({
  name: "systemd asks the real systemctl from a child with exactly --allow-run=systemctl",
  ignore: skipUnlessAvailable(...SYSTEMCTL_PATHS),
  fn: async () => {
    const { output } = await runInChild({ services: SERVICES }, systemPath());
    assert.deepEqual(output.runs[0].phases, ["exec"]);
    await assertHostAnswer(output.runs[0].results);
  },
});
