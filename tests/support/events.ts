/**
 * What a mock received, checked against the schema: the e2e tests' view of
 * the wire.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AgentEvent, CheckEvent } from "../../src/protocol.ts";
import { validateEvent } from "../../src/schema.ts";
import type { MockProcess } from "./processes.ts";

/** Valid events the mock received; fails the test on any event that does not match the schema. */
export async function receivedValid(mock: MockProcess): Promise<AgentEvent[]> {
  const all = await mock.events();
  for (const r of all) {
    const verdict = validateEvent(r.event);
    assert.ok(verdict.ok, `invalid event ${JSON.stringify(r.event)}: ${JSON.stringify(verdict)}`);
    assert.equal(r.valid, true);
  }
  return all.map((r) => r.event as AgentEvent);
}

/** The check events, optionally of one target. */
export function checkEvents(events: AgentEvent[], target?: string): CheckEvent[] {
  return events.filter((e): e is CheckEvent =>
    e.type === "check" && (target === undefined || e.target === target)
  );
}

/** Settings that make an agent report quickly in a test. */
export const FAST_AGENT = {
  AGENT_ID: "e2e-agent",
  CHECK_INTERVAL_SECONDS: "1",
  CHECK_TIMEOUT_SECONDS: "0.5",
  HEARTBEAT_INTERVAL_SECONDS: "1",
  MONITORING_CONNECT_TIMEOUT_SECONDS: "1",
  LOG_LEVEL: "debug",
};
