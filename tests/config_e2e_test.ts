/**
 * End to end through the launcher, as users start the agent: bad hosts, huge
 * target lists and hostile files must give a clear configuration error or a
 * `config` check, never a crash or a hang (issue 11, items 2–4).
 */

import assert from "node:assert/strict";
import type { CheckEvent } from "../src/protocol.ts";
import { validateEvent } from "../src/schema.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import { envFile, spawnDeno, spawnTask, startTask, taskArgs } from "./support/processes.ts";

function jsonEvents(lines: string[]): CheckEvent[] {
  return lines.filter((l) => l.trim() !== "").map((l) => {
    const event = JSON.parse(l);
    assert.deepEqual(validateEvent(event), { ok: true }, l);
    return event as CheckEvent;
  });
}

Deno.test("e2e: a colon in SSH_HOST or MYSQL_HOST makes that module a config check; the others run", async () => {
  const open = openListener();
  try {
    const run = await startTask("check", {
      AGENT_ID: "hosts",
      ENABLED_MODULES: "ssh,mysql,tcp",
      SSH_HOST: ":80",
      SSH_USER: "u",
      SSH_PASSWORD: "pw-secret-1",
      MYSQL_HOST: "a:b:c",
      MYSQL_USER: "u",
      TCP_CHECKS: `127.0.0.1:${open.port}`,
    }, ["--json"]);
    const status = await run.exit(30_000);
    const stderr = run.stderr.join("\n");
    assert.equal(status.code, 1, stderr);
    assert.doesNotMatch(stderr, /Caused by|panicked|backtrace/i);
    const events = jsonEvents(run.stdout);
    const by = (module: string) => events.find((e) => e.module === module)!;
    assert.equal(by("ssh").reason, "config");
    assert.match(by("ssh").message!, /^SSH_HOST: ":80" holds a port: .*SSH_PORT/);
    assert.equal(by("mysql").reason, "config");
    assert.match(by("mysql").message!, /^MYSQL_HOST: "a:b:c" is not a host name or IP address/);
    assert.equal(by("tcp").status, "ok");
    assert.doesNotMatch(JSON.stringify(events), /pw-secret-1/);
  } finally {
    await open.close();
  }
});

Deno.test("e2e: 10,000 TCP targets on one host start with one --allow-net entry and all report", async () => {
  const open = openListener();
  try {
    const ports = new Set<number>([open.port]);
    for (let p = 20_000; ports.size < 10_000; p++) if (p !== open.port) ports.add(p);
    const vars = { AGENT_ID: "many", ENABLED_MODULES: "tcp", TCP_CHECKS: "" };
    vars.TCP_CHECKS = [...ports].map((p) => `127.0.0.1:${p}`).join(",");
    const path = await envFile(vars);
    const flags = spawnDeno(await taskArgs("permissions"), { AGENT_ENV_FILE: path });
    assert.equal((await flags.exit()).code, 0, flags.stderr.join("\n"));
    assert.match(flags.stdout.join(" "), /--allow-net=127\.0\.0\.1,localhost:8765 /);
    const run = spawnDeno([...await taskArgs("check"), "--json"], {
      AGENT_ENV_FILE: path,
      CHECK_TIMEOUT_SECONDS: "10",
    });
    const status = await run.exit(120_000);
    assert.equal(status.code, 1, run.stderr.slice(-5).join("\n"));
    const events = jsonEvents(run.stdout);
    assert.equal(events.length, 10_000);
    assert.equal(events.find((e) => e.target === `127.0.0.1:${open.port}`)?.status, "ok");
    assert.ok(events.filter((e) => e.reason === "refused").length > 9_000);
    assert.equal(events.filter((e) => e.reason === "permission").length, 0);
  } finally {
    await open.close();
  }
});

Deno.test("e2e: targets on 10,000 distinct hosts are a configuration error (exit 2), not a crash", async () => {
  const checks = Array.from({ length: 10_000 }, (_, i) => `host-${i}.example.invalid:443`);
  for (const task of ["permissions", "start"]) {
    const run = await startTask(task, {
      AGENT_ID: "wide",
      ENABLED_MODULES: "tcp",
      TCP_CHECKS: checks.join(","),
    });
    const status = await run.exit(30_000);
    const stderr = run.stderr.join("\n");
    assert.equal(status.code, 2, `${task}: ${stderr.slice(0, 500)}`);
    assert.match(stderr, /config error: --allow-net would hold 10001 entries/);
    assert.doesNotMatch(stderr, /E2BIG|Argument list too long|Uncaught/);
  }
});

Deno.test("e2e: AGENT_ENV_FILE naming a FIFO or /dev/zero is refused at once (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/fifo`;
    assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    for (const [path, pattern] of [[fifo, /not a regular file/], ["/dev/zero", /not a regular/]]) {
      const run = await spawnTask("start", [], { AGENT_ENV_FILE: path as string });
      const status = await run.exit(20_000);
      const stderr = run.stderr.join("\n");
      assert.equal(status.code, 2, stderr);
      assert.match(stderr, /AGENT_ENV_FILE: cannot read env file/);
      assert.match(stderr, pattern as RegExp);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("e2e: AGENT_STATUS_FILE naming a directory stops start-up (exit 2)", async () => {
  for (const value of ["/", "/etc", `/no-such-dir-${crypto.randomUUID()}/status`]) {
    const run = await startTask("start", {
      AGENT_ID: "status",
      AGENT_STATUS_FILE: value,
      MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
    });
    const status = await run.exit(20_000);
    assert.equal(status.code, 2, run.stderr.join("\n"));
    assert.match(run.stderr.join("\n"), /config error: AGENT_STATUS_FILE: /);
  }
});
