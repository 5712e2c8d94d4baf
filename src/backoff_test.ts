import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";

const middle = () => 0.5;
const lowest = () => 0;
const highest = () => 0.999;

Deno.test("backoffDelay doubles from 1 s and stays at the 30 s cap", () => {
  const delays = [0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, middle));
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});

Deno.test("backoffDelay stays at the cap for very large attempts", () => {
  assert.equal(backoffDelay(1_000, middle), 30_000);
  assert.equal(backoffDelay(Number.MAX_SAFE_INTEGER, middle), 30_000);
});

Deno.test("backoffDelay spreads the delay by at most ±10 % by default", () => {
  assert.equal(backoffDelay(0, lowest), 900);
  assert.equal(backoffDelay(0, highest), 1_100); // 1000 + 1000 · 0.2 · 0.499 = 1099.8
  assert.equal(backoffDelay(3, lowest), 7_200);
  assert.equal(backoffDelay(3, highest), 8_798); // 8000 + 798.4
});

Deno.test("backoffDelay never exceeds the cap, even with upward jitter", () => {
  assert.equal(backoffDelay(5, highest), 30_000);
  assert.equal(backoffDelay(5, lowest), 27_000);
  for (let attempt = 0; attempt < 40; attempt++) {
    for (const random of [lowest, middle, highest]) {
      const delay = backoffDelay(attempt, random);
      assert.ok(delay >= 0 && delay <= 30_000, `attempt ${attempt}: ${delay}`);
    }
  }
});

Deno.test("backoffDelay uses a custom base, cap and jitter", () => {
  const options = { baseMs: 100, maxMs: 500 };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, middle, options)),
    [100, 200, 400, 500, 500],
  );
  assert.equal(backoffDelay(0, lowest, { baseMs: 100, jitter: 1 }), 50);
  assert.equal(backoffDelay(0, highest, { baseMs: 100, jitter: 1 }), 150); // 149.9 rounded
  assert.equal(backoffDelay(2, highest, { baseMs: 250, jitter: 0 }), 1_000);
});

Deno.test("backoffDelay rejects a negative or fractional attempt", () => {
  for (const attempt of [-1, 0.5, Number.NaN]) {
    assert.throws(
      () => backoffDelay(attempt, middle),
      (error: unknown) => error instanceof RangeError && error.message.includes(`got ${attempt}`),
      `attempt ${attempt}`,
    );
  }
});
