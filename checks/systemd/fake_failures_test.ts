/**
 * The systemd check against a fake systemctl first on PATH, run in a child
 * with exactly --allow-run=systemctl: every way systemctl can fail to answer
 * gives every unit the same failure.
 */

import assert from "node:assert/strict";
import { skipUnlessAvailable } from "../../tests/support/binaries.ts";
import {
  byTarget,
  processExists,
  runInChild,
  runWithFake,
  SYSTEMD_FIXTURES,
  withFakes,
} from "../../tests/support/systemd_fake.ts";

const ignore = skipUnlessAvailable("/usr/bin/bash", "/bin/bash");

Deno.test({
  name: "systemd reports a hanging systemctl as a timeout at the deadline, and kills it",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({ mode: "hang" });
      const timeoutMs = 400;
      const { output, wallMs } = await runWithFake(made, "web.service,ssh", { timeoutMs });
      const [{ elapsedMs, results }] = output.runs;
      assert.ok(elapsedMs >= timeoutMs - 5 && elapsedMs < timeoutMs + 500, `took ${elapsedMs} ms`);
      for (const result of byTarget(results).values()) {
        assert.equal(result.status, "error");
        assert.equal(result.reason, "timeout");
        assert.match(result.message ?? "", /did not answer before the check's deadline/);
        assert.deepEqual(result.details, { phase: "exec" });
      }
      assert.equal(await processExists(made.pid(1)), false, "the hung systemctl was killed");
      // The runner exited on its own soon after: nothing of the run kept it alive.
      assert.ok(wallMs < timeoutMs + 5000, `the runner took ${wallMs} ms`);
    }),
});

Deno.test({
  name: "systemd ends at the deadline also when a child of systemctl keeps the pipes open",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({ mode: "hang-with-child" });
      const timeoutMs = 300;
      try {
        const { output } = await runWithFake(made, "web.service", { timeoutMs });
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
    }),
});

Deno.test({
  name: "systemd reports output that is not one property list per unit as protocol",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const html = await fake({
        mode: "garbage",
        output: "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
      });
      for (
        const result of byTarget(
          (await runWithFake(html, "web.service,ssh")).output.runs[0].results,
        ).values()
      ) {
        assert.equal(result.status, "error");
        assert.equal(result.reason, "protocol");
        assert.match(result.message ?? "", /line 1 is not Name=value/);
      }

      const active = await Deno.readTextFile(`${SYSTEMD_FIXTURES}fake/units/active.show`);
      const one = await fake({ mode: "garbage", output: active });
      for (
        const result of byTarget((await runWithFake(one, "web.service,ssh")).output.runs[0].results)
          .values()
      ) {
        assert.equal(result.reason, "protocol");
        assert.match(result.message ?? "", /printed 1 property blocks for 2 units/);
      }

      const huge = await fake({ mode: "garbage", output: `Junk=${"x".repeat(2 * 1024 * 1024)}\n` });
      const result = byTarget((await runWithFake(huge, "web.service")).output.runs[0].results)
        .get("web.service")!;
      assert.equal(result.reason, "protocol");
      assert.match(result.message ?? "", /printed more than 1048576 bytes/);
      assert.deepEqual(result.details, { phase: "exec" }, "stopped while it ran");
    }),
});

Deno.test({
  name: "systemd without --allow-run=systemctl is a permission error and runs nothing",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({ mode: "show", units: {} });
      const { output } = await runInChild({ services: "web.service" }, [made.dir], []);
      const result = byTarget(output.runs[0].results).get("web.service")!;
      assert.equal(result.status, "error");
      assert.equal(result.reason, "permission");
      assert.match(result.message ?? "", /--allow-run=systemctl/);
      assert.equal(made.calls(), 0, "nothing ran");
    }),
});

Deno.test({
  name: "systemd reports a non-zero exit, or no systemctl on PATH, as unavailable",
  ignore,
  fn: () =>
    withFakes(async (fake) => {
      const made = await fake({
        mode: "exit",
        status: 1,
        stderr: "Failed to connect to bus: No such file or directory\n",
      });
      const { output } = await runWithFake(made, "web.service,ssh");
      for (const result of byTarget(output.runs[0].results).values()) {
        assert.equal(result.status, "error");
        assert.equal(result.reason, "unavailable");
        assert.match(
          result.message ?? "",
          /exited with status 1: Failed to connect to bus: No such file or directory$/,
        );
        assert.deepEqual(result.details, { phase: "exec" });
      }

      const empty = await fake({ mode: "show", units: {} });
      await Deno.remove(`${empty.dir}/systemctl`);
      const missing = await runInChild({ services: "web.service" }, [empty.dir]);
      const result = byTarget(missing.output.runs[0].results).get("web.service")!;
      assert.equal(result.status, "error");
      assert.equal(result.reason, "unavailable");
      assert.match(result.message ?? "", /systemctl is not installed/);
    }),
});
