/**
 * Reading parsed units in tests: the configuration of a unit that must be
 * valid, the error of one that must not be.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { InstanceSpec } from "../../src/check.ts";

/** The unit's configuration; fails the test (with the unit's error) when it has none. */
export function unitConfig<C>(spec: InstanceSpec<C> | undefined): C {
  assert.ok(spec, "no unit");
  assert.ok(spec.ok, spec.ok ? "" : `unexpected config error: ${spec.error}`);
  return spec.config;
}

/** The unit's config error; fails the test when the unit is valid. */
export function unitError<C>(spec: InstanceSpec<C> | undefined): string {
  assert.ok(spec, "no unit");
  assert.ok(!spec.ok, `expected a config error, got ${JSON.stringify(spec)}`);
  return spec.error;
}

/** The unit's error, or "" for a valid unit: for assertion messages. */
export function unitErrorText<C>(spec: InstanceSpec<C>): string {
  return spec.ok ? "" : spec.error;
}
