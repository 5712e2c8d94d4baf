/**
 * The module passes a driver's or server's text on as it is; the agent's one
 * redaction point (src/redact.ts, fed with the options the module declares
 * secret) is what keeps a quoted password out of every event.
 */

import assert from "node:assert/strict";
import { secretVariables } from "../../src/config_modules.ts";
import { REDACTED } from "../../src/redact.ts";
import { agentRedactor } from "../../tests/support/module_secrets.ts";
import {
  assertError,
  mysqlConfig as configOf,
  runMysql as runCheck,
} from "../../tests/support/mysql_check.ts";
import { startFakeMysql } from "../../tests/support/mysql_fakes.ts";
import { mysql } from "./mod.ts";

Deno.test("a password the server quotes in its error is gone once the result passes the agent's redactor", async () => {
  const password = `pw-${crypto.randomUUID().slice(0, 8)}`;
  const fake = startFakeMysql({
    kind: "login-error",
    errno: 1045,
    sqlState: "28000",
    message: `Access denied for user 'u' (using password '${password}')`,
  });
  try {
    const env: Record<string, string> = {
      MYSQL_HOST: "127.0.0.1",
      MYSQL_PORT: String(fake.port),
      MYSQL_USER: "u",
      MYSQL_PASSWORD: password,
    };
    const { result } = await runCheck(configOf(env));
    assertError(result, "auth");
    assert.equal(result.details?.error_code, 1045);
    // The module itself does not scrub: the server's text arrives whole.
    assert.ok(result.message?.includes(password), result.message);

    // The agent redacts what the module declares secret, as config resolution collects it.
    assert.deepEqual(secretVariables(mysql), ["MYSQL_PASSWORD"]);
    const event = agentRedactor(mysql, env).event(result);
    assert.ok(!JSON.stringify(event).includes(password), JSON.stringify(event));
    assert.equal(
      event.message,
      `MySQL at 127.0.0.1:${fake.port} refused user "u": Access denied for user 'u' (using password '${REDACTED}') (error 1045)`,
    );
    assert.deepEqual(event.details, result.details);
  } finally {
    await fake.close();
  }
});
