/**
 * The agent's redactor for one module instance configured through the
 * environment, built the way the agent builds it: config resolution collects
 * the values of the options the module declares secret (`resolveEnvInstance`),
 * and every event passes `createRedactor` over them.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckModule } from "../../src/check.ts";
import { resolveEnvInstance } from "../../src/config_modules.ts";
import { createRedactor, type Redactor } from "../../src/redact.ts";

/** The redactor the agent would apply to the events of `module` configured by `env`. */
export function agentRedactor<C>(module: CheckModule<C>, env: Record<string, string>): Redactor {
  const { secrets, units } = resolveEnvInstance(
    module as CheckModule<unknown>,
    (name: string) => env[name],
    { intervalMs: 30_000, timeoutMs: 5_000 },
    {},
    () => {
      throw new Deno.errors.NotFound("no secret files in this test");
    },
  );
  assert.ok(units.length > 0);
  return createRedactor(secrets);
}
