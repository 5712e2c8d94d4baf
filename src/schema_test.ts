import assert from "node:assert/strict";
import { EventFactory } from "./protocol.ts";
import { validateEvent } from "./schema.ts";

const NOW = Date.UTC(2026, 10, 27, 6, 28, 4, 123);

function factory(): EventFactory {
  let n = 0;
  return new EventFactory({ agent: "web-1", now: () => NOW, newId: () => `id-${++n}` });
}

function okCheck(): Record<string, unknown> {
  return {
    ...factory().check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1.23 }),
  };
}

function heartbeat(): Record<string, unknown> {
  return {
    ...factory().heartbeat({
      uptime_s: 30,
      queue: { size: 0, dropped: 0 },
      version: "0.1.0",
      skipped_runs: 0,
      interval_s: 15,
    }),
  };
}

/** Asserts the event is rejected and some error names `field` (a JSON pointer). */
function assertRejected(value: unknown, field: string): string[] {
  const result = validateEvent(value);
  assert.equal(result.ok, false, `expected ${JSON.stringify(value)} to be rejected`);
  const errors = (result as { errors: string[] }).errors;
  assert.ok(
    errors.some((e) => e.startsWith(`${field} `)),
    `expected an error naming ${field}, got ${JSON.stringify(errors)}`,
  );
  return errors;
}

Deno.test("an ok check event built by EventFactory is valid", () => {
  const event = okCheck();
  assert.equal(event.timestamp, "2026-11-27T06:28:04.123Z");
  assert.deepEqual(validateEvent(event), { ok: true });
});

Deno.test("an error check event with reason and message is valid", () => {
  const event = factory().check({
    module: "postgres",
    target: "127.0.0.1:5432",
    status: "error",
    reason: "timeout",
    message: "connect timed out after 5000 ms",
    duration_ms: 5003,
    details: { attempts: 1 },
  });
  assert.deepEqual(validateEvent(event), { ok: true });
});

Deno.test("a warn check event without a reason gets one from EventFactory and is valid", () => {
  const event = factory().check({ module: "nginx", target: "x", status: "warn", duration_ms: 3 });
  assert.equal(event.reason, "internal");
  assert.deepEqual(validateEvent(event), { ok: true });
});

Deno.test("a heartbeat event built by EventFactory is valid", () => {
  assert.deepEqual(validateEvent(heartbeat()), { ok: true });
});

Deno.test("events survive a JSON round trip and stay valid", () => {
  assert.deepEqual(validateEvent(JSON.parse(JSON.stringify(okCheck()))), { ok: true });
});

Deno.test("a check without id is rejected naming /id", () => {
  const { id: _, ...event } = okCheck();
  assertRejected(event, "/id");
});

Deno.test("an empty id is rejected", () => {
  assertRejected({ ...okCheck(), id: "" }, "/id");
});

Deno.test("seq 0 is rejected naming /seq", () => {
  assertRejected({ ...okCheck(), seq: 0 }, "/seq");
  assertRejected({ ...okCheck(), seq: 1.5 }, "/seq");
});

Deno.test('status "bad" is rejected naming /status and showing the value', () => {
  const errors = assertRejected({ ...okCheck(), status: "bad" }, "/status");
  assert.ok(errors.some((e) => e.includes('got "bad"')), errors.join("; "));
});

Deno.test("an error check without reason is rejected naming /reason", () => {
  assertRejected({ ...okCheck(), status: "error", message: "port closed" }, "/reason");
});

Deno.test("an error check without message is rejected naming /message", () => {
  assertRejected({ ...okCheck(), status: "error", reason: "refused" }, "/message");
});

Deno.test("an ok check with a reason is rejected naming /reason", () => {
  assertRejected({ ...okCheck(), reason: "timeout" }, "/reason");
});

Deno.test("an unknown module is rejected naming /module", () => {
  assertRejected({ ...okCheck(), module: "redis" }, "/module");
});

Deno.test("an unknown reason is rejected naming /reason", () => {
  assertRejected({ ...okCheck(), status: "error", reason: "broken", message: "m" }, "/reason");
});

Deno.test("a timestamp without milliseconds or without Z is rejected naming /timestamp", () => {
  assertRejected({ ...okCheck(), timestamp: "2026-11-27T06:28:04Z" }, "/timestamp");
  assertRejected({ ...okCheck(), timestamp: "2026-11-27T06:28:04.123" }, "/timestamp");
  assertRejected({ ...okCheck(), timestamp: "2026-11-27T06:28:04.123+02:00" }, "/timestamp");
  assertRejected({ ...okCheck(), timestamp: "2026-13-27T06:28:04.123Z" }, "/timestamp");
});

Deno.test("an extra field is rejected naming it", () => {
  assertRejected({ ...okCheck(), colour: "red" }, "/colour");
  assertRejected({ ...heartbeat(), staus: "ok" }, "/staus");
});

Deno.test("a heartbeat without queue is rejected naming /queue", () => {
  const { queue: _, ...event } = heartbeat();
  assertRejected(event, "/queue");
});

Deno.test("a heartbeat with a negative queue size is rejected naming /queue/size", () => {
  assertRejected({ ...heartbeat(), queue: { size: -1, dropped: 0 } }, "/queue/size");
});

Deno.test("an unknown type, a wrong version and a non-object are rejected", () => {
  assertRejected({ ...okCheck(), type: "metric" }, "/type");
  assertRejected({ ...okCheck(), v: 2 }, "/v");
  assert.equal(validateEvent("hello").ok, false);
  assert.equal(validateEvent(null).ok, false);
  assert.equal(validateEvent([okCheck()]).ok, false);
});

Deno.test("EventFactory keeps events valid for an empty message and a non-finite duration", () => {
  const events = factory();
  const noMessage = events.check({
    module: "tcp",
    target: "127.0.0.1:22",
    status: "error",
    reason: "refused",
    message: "",
    duration_ms: Number.NaN,
  });
  assert.deepEqual(validateEvent(JSON.parse(JSON.stringify(noMessage))), { ok: true });
  assert.equal(noMessage.duration_ms, 0);
  assert.equal(noMessage.message, "tcp check is error");
});

Deno.test("every event example in PROTOCOL.md matches the schema", () => {
  const text = Deno.readTextFileSync(new URL("../PROTOCOL.md", import.meta.url));
  const examples = [...text.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => JSON.parse(m[1]))
    .filter((v) => v.type === "check" || v.type === "heartbeat");
  assert.ok(examples.length >= 4, `only ${examples.length} examples found`);
  for (const example of examples) {
    assert.deepEqual(validateEvent(example), { ok: true }, JSON.stringify(example));
  }
});
