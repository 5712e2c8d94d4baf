import assert from "node:assert/strict";
import { createDropLog } from "./drop_log.ts";
import type { LogFields, Logger } from "./log.ts";

function setup() {
  let t = 0;
  const lines: Array<{ message: string; fields?: LogFields }> = [];
  const log: Logger = {
    debug() {},
    info() {},
    error() {},
    warn: (message, fields) => lines.push({ message, fields }),
  };
  let total = 0;
  const drops = createDropLog({
    log,
    message: (n) => `dropped ${n}`,
    fields: () => ({ dropped_total: total }),
    intervalMs: 5_000,
    now: () => t,
  });
  const record = (n: number) => {
    total += n;
    drops.record(n);
  };
  return { lines, drops, record, advance: (ms: number) => (t += ms) };
}

Deno.test("createDropLog logs the first drop at once", () => {
  const { lines, record } = setup();
  record(1);
  assert.deepEqual(lines, [{ message: "dropped 1", fields: { dropped_total: 1 } }]);
});

Deno.test("createDropLog sums drops within the interval into one line", () => {
  const { lines, record, drops, advance } = setup();
  record(1);
  for (let i = 0; i < 99; i++) {
    advance(10);
    record(1);
  }
  assert.equal(lines.length, 1, "no line before the interval passed");
  drops.flush();
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1], { message: "dropped 99", fields: { dropped_total: 100 } });
  drops.flush();
  assert.equal(lines.length, 2, "nothing new, nothing logged");
});

Deno.test("createDropLog logs again at once after a quiet interval", () => {
  const { lines, record, advance } = setup();
  record(2);
  advance(5_000);
  record(3);
  assert.deepEqual(lines.map((l) => l.message), ["dropped 2", "dropped 3"]);
});

Deno.test("createDropLog ignores zero", () => {
  const { lines, drops } = setup();
  drops.record(0);
  drops.flush();
  assert.deepEqual(lines, []);
});
