/**
 * The metrics part through the real launcher and agent: a taken
 * `METRICS_LISTEN` port stops start-up, and `deno task status` reads a
 * running agent through its status file and through its listener, and says
 * so when no agent runs.
 */

import assert from "node:assert/strict";
import { freePort } from "./support/binaries.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import {
  envFile,
  spawnDeno,
  spawnTask,
  startTask,
  taskArgs,
  waitFor,
} from "./support/processes.ts";

/** `deno task status` with the agent's env file (and `extra` variables over it). */
async function status(path: string, extra: Record<string, string> = {}, args: string[] = []) {
  const run = spawnDeno([...await taskArgs("status"), ...args], { AGENT_ENV_FILE: path, ...extra });
  const { code } = await run.exit();
  return { code, out: run.stdout.join("\n"), err: run.stderr.join("\n") };
}

Deno.test("e2e: a METRICS_LISTEN port that is taken stops start-up with exit 2, naming the variable", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    const agent = await startTask("start", {
      AGENT_ID: "taken",
      MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
      METRICS_LISTEN: `127.0.0.1:${port}`,
    });
    const { code } = await agent.exit(30_000);
    assert.equal(code, 2, agent.stderr.join("\n"));
    assert.match(
      agent.stderr.join("\n"),
      new RegExp(
        `METRICS_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`,
      ),
    );
  } finally {
    holder.close();
  }
});

Deno.test("e2e: deno task status shows a running agent from its status file or its listener", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kozak-status-" });
  const open = openListener();
  const closed = closedPort();
  const metricsPort = freePort();
  const vars = {
    AGENT_ID: "status-e2e",
    MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: `127.0.0.1:${open.port},127.0.0.1:${closed}`,
    CHECK_INTERVAL_SECONDS: "1",
    AGENT_STATUS_FILE: `${dir}/status.json`,
    METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
  };
  const path = await envFile(vars);
  const agent = await spawnTask("start", [], { AGENT_ENV_FILE: path });
  try {
    const fromFile = await waitFor("a status with both instances", async () => {
      const run = await status(path);
      return run.code === 0 && run.out.includes(`127.0.0.1:${closed}`) && run;
    }, 30_000);
    assert.match(fromFile.out, /Agent: +status-e2e \(pid \d+\)/);
    assert.match(fromFile.out, /Version: +\d+\.\d+\.\d+/);
    assert.match(fromFile.out, /Monitoring: +not connected/);
    assert.match(fromFile.out, new RegExp(`Source: +${dir}/status\\.json`));
    assert.match(fromFile.out, new RegExp(`tcp +tcp +127\\.0\\.0\\.1:${open.port} +ok +- +`));
    assert.match(fromFile.out, new RegExp(`tcp +tcp +127\\.0\\.0\\.1:${closed} +error +refused +`));

    // Without the file, the listener answers: the process environment's empty value wins over the file.
    const fromListener = await status(path, { AGENT_STATUS_FILE: "" });
    assert.equal(fromListener.code, 0, fromListener.err);
    assert.match(
      fromListener.out,
      new RegExp(`Source: +http://127\\.0\\.0\\.1:${metricsPort}/status`),
    );
    assert.match(fromListener.out, /Instances \(2\)/);

    const json = await status(path, { AGENT_STATUS_FILE: "" }, ["--json"]);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.out);
    assert.equal(parsed.agent, "status-e2e");
    assert.equal(parsed.metrics_listen, `127.0.0.1:${metricsPort}`);
    assert.deepEqual(parsed.instances.map((i: { status: string }) => i.status).sort(), [
      "error",
      "ok",
    ]);

    agent.kill("SIGTERM");
    assert.equal((await agent.exit()).code, 0);
    const gone = await status(path);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /no running agent found/);
    assert.match(gone.err, /the agent stopped/);
    assert.match(gone.err, /nothing answers at http:\/\/127\.0\.0\.1:\d+\/status/);
    assert.match(gone.err, /METRICS_LISTEN=127\.0\.0\.1:9464/);
  } finally {
    agent.kill("SIGKILL");
    await agent.exit();
    await open.close();
    await Deno.remove(dir, { recursive: true });
  }
});
