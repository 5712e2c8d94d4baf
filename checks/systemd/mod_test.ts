import assert from "node:assert/strict";
import type { CheckResult } from "../../src/check.ts";
import { findBinary, skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  type FakeSystemctl,
  fakeSystemctl,
  processExists,
  runInChild,
  type RunnerResult,
} from "../../tests/support/systemd_fake.ts";
import { PROPERTIES, systemctlArgs, systemd, type SystemdConfig } from "./mod.ts";
import { unitConfig, unitError, unitErrorText } from "../../tests/support/specs.ts";
import { secretVariables } from "../../src/config_modules.ts";

const SYSTEMCTL_PATHS = ["/usr/bin/systemctl", "/bin/systemctl"];

function specs(value: string | undefined) {
  return systemd.parse((name) => (name === "SYSTEMD_SERVICES" ? value : undefined));
}

function byTarget(results: unknown): Map<string, CheckResult> {
  assert.ok(Array.isArray(results), "a run returns one result per unit");
  return new Map((results as CheckResult[]).map((r) => [r.target, r]));
}

/** The PATH of this process, for children that need the real tools. */
function systemPath(): string[] {
  return (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
}

/** Booted with systemd as PID 1 (systemd's own sd_booted() test). */
function bootedWithSystemd(): boolean {
  try {
    return Deno.statSync("/run/systemd/system").isDirectory;
  } catch {
    return false;
  }
}

Deno.test("systemd parses SYSTEMD_SERVICES into one instance with every valid unit, in order", () => {
  const parsed = specs(" nginx.service, ssh ,apt-daily.timer,getty@tty1.service,123,ssh");
  assert.equal(parsed.length, 1);
  const [instance] = parsed;
  assert.ok(instance.ok, unitErrorText(instance));
  assert.deepEqual(instance.targets, [
    "nginx.service",
    "ssh",
    "apt-daily.timer",
    "getty@tty1.service",
    "123",
  ]);
  assert.deepEqual(unitConfig(instance).units.map((u) => u.unit), [
    "nginx.service",
    "ssh.service",
    "apt-daily.timer",
    "getty@tty1.service",
    "123.service",
  ]);
});

Deno.test("systemd makes each invalid name its own config error and keeps the valid ones", () => {
  const parsed = specs("nginx.service,-H,foo bar,$(reboot),a;b,`id`,*,../x");
  assert.deepEqual(parsed[0].targets, ["nginx.service"]);
  const refused = parsed.slice(1);
  assert.deepEqual(refused.map((s) => s.targets), [
    ["-H"],
    ["foo bar"],
    ["$(reboot)"],
    ["a;b"],
    ["`id`"],
    ["*"],
    ["../x"],
  ]);
  for (const spec of refused) {
    assert.equal(spec.ok, false);
    assert.match(unitError(spec), /^SYSTEMD_SERVICES: ".*" is not a valid unit name: /);
  }
  assert.match(unitError(refused[0]), /starts with "-"/);
  assert.match(unitError(refused[1]), /a space/);
});

Deno.test("systemd reports an empty or unset SYSTEMD_SERVICES as a config error", () => {
  for (const value of [undefined, "", " , ,"]) {
    const parsed = specs(value);
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0].ok, false);
    assert.match(unitError(parsed[0]), /SYSTEMD_SERVICES is empty/);
  }
});

Deno.test("systemd needs only --allow-run=systemctl and reads only SYSTEMD_SERVICES", () => {
  const read: string[] = [];
  const [instance] = systemd.parse((name) => {
    read.push(name);
    return name === "SYSTEMD_SERVICES" ? "ssh" : undefined;
  });
  assert.deepEqual([...new Set(read)], ["SYSTEMD_SERVICES"]);
  assert.deepEqual(systemd.options.map((o) => o.name), ["services"]);
  assert.deepEqual(secretVariables(systemd), []);
  assert.deepEqual(systemd.needs(unitConfig(instance)), { run: ["systemctl"] });
});

Deno.test("systemd puts every option before -- and only unit names after it", () => {
  assert.deepEqual(systemctlArgs(["a.service", "b.timer"]), [
    "show",
    "--no-pager",
    "--property=LoadState,ActiveState,SubState,NRestarts,ActiveEnterTimestamp,StateChangeTimestamp,MainPID",
    "--",
    "a.service",
    "b.timer",
  ]);
  assert.equal(PROPERTIES.length, 7);
});

Deno.test({
  name: "systemd reports unavailable with systemctl's own words where systemd is not PID 1",
  ignore: skipUnlessAvailable(...SYSTEMCTL_PATHS),
  fn: async () => {
    const config: SystemdConfig = {
      units: [{ target: "ssh", unit: "ssh.service" }, { target: "cron", unit: "cron.service" }],
    };
    const results = await (await systemd.load()).run(config, {
      signal: AbortSignal.timeout(5000),
      memory: new Map(),
    });
    const byUnit = byTarget(results);
    assert.deepEqual([...byUnit.keys()], ["ssh", "cron"]);
    if (bootedWithSystemd()) {
      // A host that runs systemd answers; whatever the states, it is an answer, not a failure.
      for (const result of byUnit.values()) {
        assert.ok(!["unavailable", "protocol", "internal"].includes(result.reason ?? ""));
      }
      return;
    }
    // What systemctl itself says here, asked the same way.
    const direct = await new Deno.Command("systemctl", {
      args: systemctlArgs(["ssh.service"]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.notEqual(direct.code, 0);
    const words = new TextDecoder().decode(direct.stderr).split("\n")[0].trim();
    assert.ok(words.length > 0);
    for (const result of byUnit.values()) {
      assert.equal(result.status, "error");
      assert.equal(result.reason, "unavailable", "not a misleading inactive");
      assert.ok(result.message?.includes(words), result.message);
      assert.match(result.message ?? "", new RegExp(`exited with status ${direct.code}`));
    }
  },
});

Deno.test({
  name: "systemd against a fake systemctl first on PATH, run with exactly --allow-run=systemctl",
  ignore: skipUnlessAvailable("/usr/bin/bash", "/bin/bash"),
  fn: async (t) => {
    const fakes: FakeSystemctl[] = [];
    const fake = async (scenario: Parameters<typeof fakeSystemctl>[0]) => {
      const made = await fakeSystemctl(scenario);
      fakes.push(made);
      return made;
    };
    const run = (
      made: FakeSystemctl,
      services: string,
      options: { runs?: number; timeoutMs?: number } = {},
    ): Promise<RunnerResult> => runInChild({ services, ...options }, [made.dir, ...systemPath()]);

    try {
      await t.step(
        "one systemctl call answers for all units, each mapped by its state",
        async () => {
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
          const { output } = await run(
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
        },
      );

      await t.step("a restart counter that went up since the last run is a warning", async () => {
        const made = await fake({
          mode: "show",
          units: { "bot.service.1": "restarts-603.show", "bot.service.2": "restarts-644.show" },
        });
        const { output } = await run(made, "bot.service", { runs: 2 });
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
      });

      await t.step(
        "a hanging systemctl is a timeout at the deadline, and it is killed",
        async () => {
          const made = await fake({ mode: "hang" });
          const timeoutMs = 400;
          const { output, wallMs } = await run(made, "web.service,ssh", { timeoutMs });
          const [{ elapsedMs, results }] = output.runs;
          assert.ok(
            elapsedMs >= timeoutMs - 5 && elapsedMs < timeoutMs + 500,
            `took ${elapsedMs} ms`,
          );
          for (const result of byTarget(results).values()) {
            assert.equal(result.status, "error");
            assert.equal(result.reason, "timeout");
            assert.match(result.message ?? "", /did not answer before the check's deadline/);
          }
          assert.equal(await processExists(made.pid(1)), false, "the hung systemctl was killed");
          // The runner exited on its own soon after: nothing of the run kept it alive.
          assert.ok(wallMs < timeoutMs + 5000, `the runner took ${wallMs} ms`);
        },
      );

      await t.step(
        "a hang whose child keeps the pipes open still ends at the deadline",
        async () => {
          const made = await fake({ mode: "hang-with-child" });
          const timeoutMs = 300;
          try {
            const { output } = await run(made, "web.service", { timeoutMs });
            const [{ elapsedMs, results }] = output.runs;
            assert.ok(
              elapsedMs >= timeoutMs - 5 && elapsedMs < timeoutMs + 500,
              `took ${elapsedMs} ms`,
            );
            assert.equal(byTarget(results).get("web.service")?.reason, "timeout");
            assert.equal(await processExists(made.pid(1)), false, "the fake itself was killed");
            const child = made.childPid();
            assert.ok(
              child !== undefined && await processExists(child),
              "its child still holds the pipes",
            );
          } finally {
            // The background sleep (2 s) is not ours to kill; wait until it is gone.
            const child = made.childPid();
            const deadline = performance.now() + 5000;
            while (
              child !== undefined && await processExists(child) && performance.now() < deadline
            ) {
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        },
      );

      await t.step("garbage instead of properties is a protocol error", async () => {
        const made = await fake({
          mode: "garbage",
          output: "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
        });
        const { output } = await run(made, "web.service,ssh");
        for (const result of byTarget(output.runs[0].results).values()) {
          assert.equal(result.status, "error");
          assert.equal(result.reason, "protocol");
          assert.match(result.message ?? "", /line 1 is not Name=value/);
        }
      });

      await t.step("fewer property blocks than units is a protocol error", async () => {
        const active = Deno.readTextFileSync(
          new URL("../../tests/fixtures/systemd/fake/units/active.show", import.meta.url),
        );
        const made = await fake({ mode: "garbage", output: active });
        const { output } = await run(made, "web.service,ssh");
        for (const result of byTarget(output.runs[0].results).values()) {
          assert.equal(result.reason, "protocol");
          assert.match(result.message ?? "", /printed 1 property blocks for 2 units/);
        }
      });

      await t.step("more output than any answer (over 1 MiB) is a protocol error", async () => {
        const made = await fake({
          mode: "garbage",
          output: `Junk=${"x".repeat(2 * 1024 * 1024)}\n`,
        });
        const { output } = await run(made, "web.service");
        const result = byTarget(output.runs[0].results).get("web.service")!;
        assert.equal(result.reason, "protocol");
        assert.match(result.message ?? "", /printed more than 1048576 bytes/);
      });

      await t.step("without --allow-run=systemctl it is a permission error", async () => {
        const made = await fake({ mode: "show", units: {} });
        const { output } = await runInChild({ services: "web.service" }, [made.dir], []);
        const result = byTarget(output.runs[0].results).get("web.service")!;
        assert.equal(result.status, "error");
        assert.equal(result.reason, "permission");
        assert.match(result.message ?? "", /--allow-run=systemctl/);
        assert.equal(made.calls(), 0, "nothing ran");
      });

      await t.step("a non-zero exit is unavailable, with systemctl's words", async () => {
        const made = await fake({
          mode: "exit",
          status: 1,
          stderr: "Failed to connect to bus: No such file or directory\n",
        });
        const { output } = await run(made, "web.service,ssh");
        for (const result of byTarget(output.runs[0].results).values()) {
          assert.equal(result.status, "error");
          assert.equal(result.reason, "unavailable");
          assert.match(
            result.message ?? "",
            /exited with status 1: Failed to connect to bus: No such file or directory$/,
          );
        }
      });

      await t.step("no systemctl on PATH is unavailable", async () => {
        const empty = await fake({ mode: "show", units: {} });
        await Deno.remove(`${empty.dir}/systemctl`);
        const { output } = await runInChild({ services: "web.service" }, [empty.dir]);
        const result = byTarget(output.runs[0].results).get("web.service")!;
        assert.equal(result.status, "error");
        assert.equal(result.reason, "unavailable");
        assert.match(result.message ?? "", /systemctl is not installed/);
      });

      await t.step({
        name: "the real systemctl in a child with exactly --allow-run=systemctl",
        ignore: findBinary(...SYSTEMCTL_PATHS) === undefined || bootedWithSystemd(),
        fn: async () => {
          const { output } = await runInChild({ services: "ssh,cron.service" }, systemPath());
          for (const result of byTarget(output.runs[0].results).values()) {
            assert.equal(result.status, "error");
            assert.equal(result.reason, "unavailable");
            assert.match(result.message ?? "", /systemctl exited with status \d+: \S/);
          }
        },
      });

      await t.step(
        "names with shell metacharacters, spaces and a leading - never reach systemctl",
        async () => {
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
          const { output } = await run(made, ["web.service", ...hostile, "0x1f"].join(","));
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
          assert.equal(
            (() => {
              try {
                Deno.statSync(canary);
                return true;
              } catch {
                return false;
              }
            })(),
            false,
            "nothing was run by a shell",
          );
          const results = byTarget(output.runs[0].results);
          assert.equal(results.get("web.service")?.status, "ok");
          assert.equal(results.get("0x1f")?.reason, "config", "0x1f is a unit name, not a job id");
        },
      );
    } finally {
      for (const made of fakes) await Deno.remove(made.dir, { recursive: true });
    }
  },
});
