import assert from "node:assert/strict";
import { MEMORY_KEY, metrics } from "./metrics.ts";
import type { StubStatus } from "./stub_status.ts";

function page(accepts: number, handled: number, requests: number): StubStatus {
  return { active: 2, accepts, handled, requests, reading: 0, writing: 1, waiting: 1 };
}

Deno.test("metrics() reports the page's values and no rate on the first run", () => {
  const memory = new Map<string, unknown>();
  const { details, message } = metrics(page(10, 10, 20), 1000, memory);
  assert.deepEqual(details, {
    active: 2,
    accepts: 10,
    handled: 10,
    requests: 20,
    reading: 0,
    writing: 1,
    waiting: 1,
    dropped: 0,
    counter_reset: false,
  });
  assert.equal(message, undefined);
  assert.deepEqual(memory.get(MEMORY_KEY), { accepts: 10, handled: 10, requests: 20, atMs: 1000 });
});

Deno.test("metrics() computes rates against the previous run's reading", () => {
  const memory = new Map<string, unknown>();
  metrics(page(10, 10, 20), 1000, memory);
  const { details } = metrics(page(16, 16, 32), 3000, memory);
  assert.equal(details.accepts_per_s, 3);
  assert.equal(details.requests_per_s, 6);
  assert.equal(details.rate_interval_s, 2);
  const third = metrics(page(17, 17, 33), 6000, memory).details;
  assert.equal(third.requests_per_s, 0.333, "three decimals");
});

Deno.test("metrics() calls a counter that went down a reset: a message, no rate, rates resume", () => {
  const memory = new Map<string, unknown>();
  metrics(page(100, 100, 400), 1000, memory);
  const reset = metrics(page(3, 3, 1), 2000, memory);
  assert.equal(reset.details.counter_reset, true);
  assert.match(reset.message ?? "", /requests 400 → 1\): nginx was restarted/);
  for (const key of ["accepts_per_s", "requests_per_s", "rate_interval_s"]) {
    assert.equal(key in reset.details, false, key);
  }
  const next = metrics(page(5, 5, 4), 3000, memory);
  assert.equal(next.details.counter_reset, false);
  assert.equal(next.details.requests_per_s, 3);
});

Deno.test("metrics() never reports negative drops, keeps Tengine's request time, ignores junk memory", () => {
  const memory = new Map<string, unknown>([[MEMORY_KEY, { accepts: "many" }]]);
  const { details } = metrics({ ...page(10, 11, 20), requestTimeMs: 5000 }, 1000, memory);
  assert.equal(details.dropped, 0, "handled read a hair ahead of accepts");
  assert.equal(details.request_time_ms, 5000);
  assert.equal(details.counter_reset, false);
  assert.equal(details.accepts_per_s, undefined);
  assert.equal(metrics(page(10, 7, 20), 2000, new Map()).details.dropped, 3);
  // Two readings at the same instant give no rate instead of a division by zero.
  const same = new Map<string, unknown>();
  metrics(page(1, 1, 1), 500, same);
  assert.equal(metrics(page(2, 2, 2), 500, same).details.requests_per_s, undefined);
});
