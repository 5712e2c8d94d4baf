import assert from "node:assert/strict";
import { createRedactor, REDACTED } from "./redact.ts";
import { createLogger, type LoggerOptions } from "./log.ts";

// --- createLogger ---------------------------------------------------------------------------

const NOW = Date.UTC(2026, 10, 27, 6, 28, 4, 123);
const TS = "2026-11-27T06:28:04.123Z";

function captured(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({
    redactor: createRedactor([]),
    now: () => NOW,
    write: (line) => lines.push(line),
    ...options,
  });
  return { log, lines };
}

Deno.test("createLogger hides debug lines at the default info level", () => {
  const { log, lines } = captured();
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepEqual(lines, [`${TS} INFO  i`, `${TS} WARN  w`, `${TS} ERROR e`]);
});

Deno.test("createLogger writes only lines at or above the configured level", () => {
  const debug = captured({ level: "debug" });
  const error = captured({ level: "error" });
  for (const { log } of [debug, error]) {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  }
  assert.equal(debug.lines.length, 4);
  assert.equal(debug.lines[0], `${TS} DEBUG d`);
  assert.deepEqual(error.lines, [`${TS} ERROR e`]);
});

Deno.test("createLogger's json format writes one JSON object per line with ts, level, msg and fields", () => {
  const { log, lines } = captured({ format: "json" });
  log.info("check done", { check: "tcp:db:5432", duration_ms: 12.5, tags: ["a"] });
  log.warn("multi\nline");
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => !l.includes("\n")), "a line holds no raw newline");
  assert.deepEqual(JSON.parse(lines[0]), {
    ts: TS,
    level: "info",
    msg: "check done",
    check: "tcp:db:5432",
    duration_ms: 12.5,
    tags: ["a"],
  });
  assert.deepEqual(JSON.parse(lines[1]), { ts: TS, level: "warn", msg: "multi\nline" });
});

Deno.test("createLogger's pretty format shows the level and key=value fields", () => {
  const { log, lines } = captured();
  log.warn("queue full", { dropped: 3, policy: "drop-oldest", note: "two words", ok: false });
  assert.deepEqual(lines, [
    `${TS} WARN  queue full dropped=3 policy=drop-oldest note="two words" ok=false`,
  ]);
});

Deno.test("createLogger renders an Error field by its message", () => {
  const pretty = captured();
  const json = captured({ format: "json" });
  for (const { log } of [pretty, json]) {
    log.error("check threw", { error: new Error("connection refused") });
  }
  assert.deepEqual(pretty.lines, [`${TS} ERROR check threw error="connection refused"`]);
  assert.equal(JSON.parse(json.lines[0]).error, "connection refused");
});

Deno.test("createLogger never writes a secret from the message, a field or an Error", () => {
  const secret = 'T0k"en\\42';
  for (const format of ["pretty", "json"] as const) {
    const { log, lines } = captured({ format, redactor: createRedactor([secret]) });
    log.info(`login with ${secret} failed`);
    log.warn("retrying", { token: secret, url: `wss://x/?t=${encodeURIComponent(secret)}` });
    log.error("driver error", { error: new Error(`bad password ${secret}`) });
    assert.equal(lines.length, 3, format);
    for (const line of lines) {
      assert.ok(!line.includes("T0k"), `${format} leaked: ${line}`);
      assert.ok(line.includes(REDACTED), `${format} redacted nothing: ${line}`);
    }
    if (format === "json") {
      const parsed = lines.map((l) => JSON.parse(l));
      assert.equal(parsed[0].msg, `login with ${REDACTED} failed`);
      assert.equal(parsed[1].token, REDACTED);
      assert.equal(parsed[1].url, `wss://x/?t=${REDACTED}`);
      assert.equal(parsed[2].error, `bad password ${REDACTED}`);
    }
  }
});

Deno.test("createLogger with a short secret keeps the time, the level and the field names", () => {
  for (const format of ["pretty", "json"] as const) {
    const { log, lines } = captured({ format, redactor: createRedactor(["a", "ts", "INFO"]) });
    log.info("kozak agent a", { ts: "a", level: "a b" });
    if (format === "json") {
      const parsed = JSON.parse(lines[0]);
      assert.deepEqual(Object.keys(parsed), ["ts", "level", "msg"]);
      assert.equal(parsed.ts, TS);
      assert.equal(parsed.level, "info");
      assert.equal(parsed.msg, `kozak agent ${REDACTED}`);
    } else {
      assert.equal(
        lines[0],
        `${TS} INFO  kozak agent ${REDACTED} ts=${REDACTED} level="${REDACTED} b"`,
      );
    }
  }
});
