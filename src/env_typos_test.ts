import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { envTypos } from "./env_typos.ts";

Deno.test("a variable with a module's prefix that nothing reads is named with the closest known one", () => {
  assert.deepEqual(envTypos(["TCP_CHECK", "POSTGRES_HOTS", "MYSQL_PASWORD"], MODULES), [
    {
      variable: "TCP_CHECK",
      message: "is set but no part of the agent reads it (did you mean TCP_CHECKS?)",
    },
    {
      variable: "POSTGRES_HOTS",
      message: "is set but no part of the agent reads it (did you mean POSTGRES_HOST?)",
    },
    {
      variable: "MYSQL_PASWORD",
      message: "is set but no part of the agent reads it (did you mean MYSQL_PASSWORD?)",
    },
  ]);
});

Deno.test("agent-wide prefixes are checked too; known and unrelated names are not", () => {
  const warnings = envTypos(
    ["QUEUE_MAX_EVENT", "TCP_CHECKS", "POSTGRES_PASSWORD_FILE", "HOME", "PATH", "LOG_TOKENS"],
    MODULES,
  );
  assert.deepEqual(warnings.map((w) => w.variable), ["QUEUE_MAX_EVENT"]);
  assert.match(warnings[0].message, /did you mean QUEUE_MAX_EVENTS\?/);
});

Deno.test("HTTP_PROXY is the proxy convention, not a typo of an http option; HTTP_TOKN is", () => {
  const warnings = envTypos(["HTTP_PROXY", "HTTP_URL", "HTTP_TOKN"], MODULES);
  assert.deepEqual(warnings.map((w) => w.variable), ["HTTP_TOKN"]);
  assert.match(warnings[0].message, /did you mean HTTP_TOKEN\?/);
});

Deno.test("a far-off name gets the warning without a guess", () => {
  const [warning] = envTypos(["SSH_SOMETHING_ELSE_ENTIRELY"], MODULES);
  assert.equal(warning.message, "is set but no part of the agent reads it");
});
