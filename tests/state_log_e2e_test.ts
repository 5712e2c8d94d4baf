/**
 * End to end: an operator under `deno task start` sees each check's state
 * and its changes in the log at the default level (issue 11, item 13).
 */

import assert from "node:assert/strict";
import { FAST_AGENT } from "./support/events.ts";
import { closedPort } from "./support/listeners.ts";
import { startTask, waitFor } from "./support/processes.ts";

Deno.test("e2e: the agent logs a check going from refused to ok at info, and results at debug", async () => {
  const port = closedPort();
  const target = `127.0.0.1:${port}`;
  const agent = await startTask("start", {
    ...FAST_AGENT,
    LOG_LEVEL: "info",
    MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
    SHUTDOWN_FLUSH_SECONDS: "0",
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: target,
  });
  let listener: Deno.Listener | undefined;
  try {
    await waitFor(
      "the first state",
      () => agent.stderr.some((l) => l.includes(`INFO  check tcp ${target} is error (refused)`)),
    );
    listener = Deno.listen({ hostname: "127.0.0.1", port });
    await waitFor(
      "the change back to ok",
      () =>
        agent.stderr.some((l) =>
          l.includes(`INFO  check tcp ${target} changed: error (refused) → ok after`)
        ),
      15_000,
    );
    assert.ok(!agent.stderr.some((l) => l.includes(" DEBUG ")), "no debug line at info");
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
    listener?.close();
  }
});

Deno.test("e2e: at debug, every check result is logged", async () => {
  const target = `127.0.0.1:${closedPort()}`;
  const agent = await startTask("start", {
    ...FAST_AGENT,
    CHECK_INTERVAL_SECONDS: "0.3",
    MONITORING_URL: `ws://127.0.0.1:${closedPort()}`,
    SHUTDOWN_FLUSH_SECONDS: "0",
    ENABLED_MODULES: "tcp",
    TCP_CHECKS: target,
  });
  try {
    await waitFor(
      "three results at debug",
      () =>
        agent.stderr.filter((l) => l.includes(`DEBUG check tcp ${target}: error (refused)`))
          .length >= 3,
    );
  } finally {
    agent.kill("SIGTERM");
    await agent.exit();
  }
});
