/**
 * The systemd check against a fake systemctl first on PATH, run in a child
 * with exactly --allow-run=systemctl: how units' states are mapped, the
 * restart counter, and names that must never reach systemctl.
 */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import { byTarget, runWithFake, withFakes } from "../../tests/support/systemd_fake.ts";
import { systemctlArgs } from "./run.ts";

const ignore = skipUnlessAvailable("/usr/bin/bash", "/bin/bash");

Deno.test({
  name: "systemd asks one systemctl call for all units and maps each by its state",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({
        mode: "show",
        units: {
          "web.service": "active.show",
          "ssh.service": "failed.show",
          "bot.service": "activating.show",
          "sync.service": "inactive.show",
          "sync.timer": "timer.show",
        },
      });
      const { output } = await runWithFake(
        made,
        "web.service,ssh,bot.service,nope.service,sync,sync.timer",
      );
      assert.equal(made.calls(), 1, "one call per run");
      assert.deepEqual(
        made.argv(1),
        systemctlArgs([
          "web.service",
          "ssh.service",
          "bot.service",
          "nope.service",
          "sync.service",
          "sync.timer",
        ]),
      );
      assert.equal(made.tz(1), "UTC");
      assert.deepEqual(output.runs[0].phases, ["exec"]);
      const results = byTarget(output.runs[0].results);
      assert.deepEqual([...results.keys()], [
        "web.service",
        "ssh",
        "bot.service",
        "nope.service",
        "sync",
        "sync.timer",
      ]);

      const active = results.get("web.service")!;
      assert.equal(active.status, "ok");
      assert.equal(active.reason, undefined);
      assert.equal(active.details?.active_state, "active");
      assert.equal(active.details?.sub_state, "running");
      assert.equal(active.details?.main_pid, 3764255);
      assert.equal(active.details?.restarts, 0);
      assert.equal(active.details?.active_since, "2024-02-27T22:50:37.000Z");

      const failed = results.get("ssh")!;
      assert.equal(failed.status, "error");
      assert.equal(failed.reason, "inactive");
      assert.match(
        failed.message ?? "",
        /ssh\.service is failed \(failed\) since 2019-03-02T13:23:36/,
      );
      assert.equal(failed.details?.restarts, 5);

      const activating = results.get("bot.service")!;
      assert.equal(activating.status, "warn");
      assert.equal(activating.reason, "inactive");
      assert.match(activating.message ?? "", /activating \(auto-restart\)/);
      assert.equal(activating.details?.restarts, 672);

      const missing = results.get("nope.service")!;
      assert.equal(missing.status, "error");
      assert.equal(missing.reason, "config");
      assert.match(missing.message ?? "", /no such unit/);

      const inactive = results.get("sync")!;
      assert.equal(inactive.status, "error");
      assert.equal(inactive.reason, "inactive");
      assert.match(inactive.message ?? "", /inactive \(dead\)/);

      const timer = results.get("sync.timer")!;
      assert.equal(timer.status, "ok");
      assert.equal(timer.details?.sub_state, "waiting");
      assert.equal(timer.details?.restarts, null);
    }),
});

Deno.test({
  name: "systemd warns when a restart counter went up since the last run",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({
        mode: "show",
        units: { "bot.service.1": "restarts-603.show", "bot.service.2": "restarts-644.show" },
      });
      const { output } = await runWithFake(made, "bot.service", { runs: 2 });
      assert.equal(made.calls(), 2);
      const first = byTarget(output.runs[0].results).get("bot.service")!;
      assert.equal(first.status, "ok", "the first run has nothing to compare with");
      assert.equal(first.details?.restarts, 603);
      assert.equal(first.details?.restarts_since_last_check, null);
      const second = byTarget(output.runs[1].results).get("bot.service")!;
      assert.equal(second.status, "warn");
      assert.equal(second.reason, "inactive");
      assert.match(
        second.message ?? "",
        /^bot\.service restarted 41 times since \d{4}-\d\d-\d\dT[\d:.]+Z \(NRestarts 603 → 644\)$/,
      );
      assert.equal(second.details?.restarts_since_last_check, 41);
    }),
});

Deno.test({
  name: "systemd never passes names with shell metacharacters, spaces or a leading - to systemctl",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({ mode: "show", units: { "web.service": "active.show" } });
      const canary = `${made.dir}/canary`;
      const hostile = [
        `$(touch ${canary})`,
        `\`touch ${canary}\``,
        `x;touch ${canary}`,
        `x|touch ${canary}`,
        `x&&touch ${canary}`,
        "foo bar.service",
        "-H",
        "--host=evil",
        "-.mount",
        "*",
        "ssh?",
        "[a-z]*.service",
        "../../etc/passwd",
        "'quoted'",
        '"quoted"',
        "x>y",
      ];
      const { output } = await runWithFake(made, ["web.service", ...hostile, "0x1f"].join(","));
      const refused = output.specs.filter((s) => s.configError !== undefined);
      assert.deepEqual(refused.map((s) => s.targets[0]).sort(), [...hostile].sort());
      for (const spec of refused) {
        assert.match(spec.configError!, /is not a valid unit name/);
      }
      assert.equal(made.calls(), 1);
      const argv = made.argv(1);
      assert.deepEqual(argv, systemctlArgs(["web.service", "0x1f.service"]));
      for (const arg of argv.slice(argv.indexOf("--") + 1)) {
        assert.ok(!arg.startsWith("-"), arg);
        assert.match(arg, /^[A-Za-z0-9:_.\\@-]+$/);
      }
      const ran = await Deno.stat(canary).then(() => true, () => false);
      assert.equal(ran, false, "nothing was run by a shell");
      const results = byTarget(output.runs[0].results);
      assert.equal(results.get("web.service")?.status, "ok");
      assert.equal(results.get("0x1f")?.reason, "config", "0x1f is a unit name, not a job id");
    }),
});
