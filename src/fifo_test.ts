import assert from "node:assert/strict";
import { Fifo } from "./fifo.ts";

Deno.test("Fifo keeps order across compaction, removes from the middle and drains", () => {
  const line = new Fifo<number>();
  for (let i = 0; i < 5_000; i++) line.push(i);
  for (let i = 0; i < 3_000; i++) assert.equal(line.shift(), i);
  assert.equal(line.length, 2_000);
  assert.ok(line.remove(4_000));
  assert.ok(!line.remove(10), "already taken");
  assert.equal(line.shift(), 3_000);
  const rest = line.drain();
  assert.equal(rest.length, 1_998);
  assert.ok(!rest.includes(4_000));
  assert.equal(line.shift(), undefined);
  assert.equal(line.length, 0);
});
