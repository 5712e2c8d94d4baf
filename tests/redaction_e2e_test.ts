/**
 * End to end: a short secret must not corrupt events or give itself away in
 * log lines (issue 11, item 1).
 */

import assert from "node:assert/strict";
import { checkEvents, FAST_AGENT, receivedValid } from "./support/events.ts";
import { closedPort, openListener } from "./support/listeners.ts";
import { startMock, startTask, waitFor } from "./support/processes.ts";

Deno.test("e2e: MYSQL_PASSWORD=a leaves every event valid and every log line readable", async () => {
  const mock = await startMock();
  const open = openListener();
  const agent = await startTask("start", {
    ...FAST_AGENT,
    AGENT_ID: "kozak-agent-a",
    MONITORING_URL: mock.url,
    ENABLED_MODULES: "tcp,mysql",
    TCP_CHECKS: `127.0.0.1:${open.port}`,
    MYSQL_HOST: "127.0.0.1",
    MYSQL_PORT: String(closedPort()),
    MYSQL_USER: "monitor",
    MYSQL_PASSWORD: "a",
  });
  try {
    const events = await waitFor("tcp and mysql events", async () => {
      const got = await receivedValid(mock); // fails on any event the schema rejects
      const modules = new Set(checkEvents(got).map((e) => e.module));
      return modules.has("tcp") && modules.has("mysql") && got.length >= 4 && got;
    }, 20_000);
    for (const e of events) assert.equal(e.agent, "kozak-agent-a");
    const mysql = checkEvents(events).find((e) => e.module === "mysql")!;
    assert.equal(mysql.status, "error");
    assert.equal(mysql.reason, "refused");
    const log = agent.stderr.join("\n");
    assert.match(log, /MYSQL_PASSWORD is shorter than 4 characters/);
    assert.match(log, /kozak agent starting/);
    assert.doesNotMatch(log, /\[REDACTED\][a-z]|[a-z]\[REDACTED\]/, "redacted inside a word");
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
    mock.kill("SIGKILL");
    await mock.exit();
    await open.close();
  }
});

Deno.test("e2e: deno task check, table and --json, never prints a secret that a failing target quotes", async () => {
  const secret = "pw-" + crypto.randomUUID();
  for (const extra of [["--json"], []]) {
    const run = await startTask("check", {
      AGENT_ID: "check-redaction",
      ENABLED_MODULES: "tcp,mysql",
      // A target whose config error quotes the secret, and a login whose password it is.
      TCP_CHECKS: secret,
      MYSQL_HOST: "127.0.0.1",
      MYSQL_PORT: String(closedPort()),
      MYSQL_USER: "monitor",
      MYSQL_PASSWORD: secret,
    }, extra);
    const status = await run.exit(30_000);
    assert.equal(status.code, 1, run.stderr.join("\n"));
    const out = run.stdout.join("\n");
    assert.ok(out.includes("[REDACTED]"), `nothing redacted in: ${out}`);
    assert.ok(!out.includes(secret), `the secret in stdout: ${out}`);
    assert.ok(!run.stderr.join("\n").includes(secret), "the secret in stderr");
  }
});
