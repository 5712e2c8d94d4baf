/**
 * The agent's redactor for one module instance configured through the
 * environment, built the way the agent builds it: config resolution collects
 * the values of the options the module declares secret (`resolveEnvModule`),
 * and every event passes `createRedactor` over them.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CheckModule } from "../../src/check.ts";
import { resolveEnvModule } from "../../src/config_modules.ts";
import { createRedactor, type Redactor } from "../../src/redact.ts";

/** The redactor the agent would apply to the events of `module` configured by `env`. */
export function agentRedactor<C>(module: CheckModule<C>, env: Record<string, string>): Redactor {
  const problems: Parameters<typeof resolveEnvModule>[3] = [];
  const { secrets } = resolveEnvModule(
    module as CheckModule<unknown>,
    (name) => env[name],
    { intervalMs: 30_000, timeoutMs: 5_000 },
    problems,
  );
  assert.deepEqual(problems, []);
  return createRedactor(secrets);
}
