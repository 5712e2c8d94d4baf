import assert from "node:assert/strict";
import { createRedactor, MIN_SECRET_LENGTH, REDACTED } from "./redact.ts";
import { EventFactory } from "./protocol.ts";
import { validateEvent } from "./schema.ts";
import { createLogger, type LoggerOptions } from "./log.ts";

// --- createRedactor -------------------------------------------------------------------------

Deno.test("createRedactor removes a secret everywhere in a string", () => {
  const r = createRedactor(["hunter2"]);
  assert.equal(
    r.text("hunter2 then hunter2hunter2 and xhunter2x"),
    `${REDACTED} then ${REDACTED}${REDACTED} and x${REDACTED}x`,
  );
  assert.equal(r.text("nothing secret here"), "nothing secret here");
});

Deno.test("createRedactor removes every one of several secrets", () => {
  const r = createRedactor(["alpha-token", "beta-pass"]);
  assert.equal(r.text("a=alpha-token b=beta-pass"), `a=${REDACTED} b=${REDACTED}`);
});

Deno.test("createRedactor removes a secret's percent-encoded form", () => {
  const secret = "p@ss/w rd";
  const r = createRedactor([secret]);
  assert.equal(encodeURIComponent(secret), "p%40ss%2Fw%20rd");
  assert.equal(r.text("GET /login?pw=p%40ss%2Fw%20rd"), `GET /login?pw=${REDACTED}`);
});

Deno.test("createRedactor removes a secret that a URL carries in its user info", () => {
  for (const secret of ["p@ss/w rd", "ab+c/d==", "pa$$,&w"]) {
    const url = new URL("postgres://app@db.internal:5432/app");
    url.password = secret;
    const out = createRedactor([secret]).text(`connect to ${url.href} failed`);
    assert.equal(out, `connect to postgres://app:${REDACTED}@db.internal:5432/app failed`, secret);
  }
});

Deno.test("createRedactor removes a secret that a query string carries", () => {
  for (const secret of ["p@ss/w rd", "ab+c/d=="]) {
    const query = new URLSearchParams({ token: secret }).toString();
    const out = createRedactor([secret]).text(`wss://monitor/ws?${query}`);
    assert.equal(out, `wss://monitor/ws?token=${REDACTED}`, secret);
  }
});

Deno.test("createRedactor removes a secret's JSON-escaped form", () => {
  const secret = 'pa"ss\\word';
  const r = createRedactor([secret]);
  const json = JSON.stringify({ password: secret, user: "app" });
  assert.equal(json, '{"password":"pa\\"ss\\\\word","user":"app"}');
  const out = r.text(json);
  assert.equal(out, `{"password":"${REDACTED}","user":"app"}`);
  assert.deepEqual(JSON.parse(out), { password: REDACTED, user: "app" });
  assert.equal(r.text(`raw ${secret} raw`), `raw ${REDACTED} raw`);
});

Deno.test("createRedactor removes the longer secret whole when it contains a shorter one", () => {
  for (const secrets of [["abc", "abcdef"], ["abcdef", "abc"]]) {
    const r = createRedactor(secrets);
    assert.equal(r.text("x abcdef y abc z"), `x ${REDACTED} y ${REDACTED} z`, secrets.join(","));
  }
});

Deno.test("createRedactor.value() redacts nested strings, keeps keys, and does not touch the input", () => {
  const r = createRedactor(["s3cret"]);
  const input = {
    url: "https://u:s3cret@h/",
    n: 42,
    ok: true,
    none: null,
    list: ["a", "s3cret", { deep: ["x s3cret y"] }],
    s3cret: "key is the secret",
  };
  const before = structuredClone(input);
  const out = r.value(input);
  assert.deepEqual(out, {
    url: `https://u:${REDACTED}@h/`,
    n: 42,
    ok: true,
    none: null,
    list: ["a", REDACTED, { deep: [`x ${REDACTED} y`] }],
    s3cret: "key is the secret",
  });
  assert.deepEqual(input, before, "the input is not mutated");
  assert.notEqual(out, input);
  assert.notEqual(out.list, input.list);
});

Deno.test("createRedactor with no secrets returns its input unchanged", () => {
  for (const secrets of [[], ["", undefined]]) {
    const r = createRedactor(secrets);
    assert.equal(r.text("anything at all"), "anything at all");
    const value = { a: ["b"], c: "" };
    assert.equal(r.value(value), value, "the very same object");
  }
});

Deno.test("createRedactor ignores empty secrets next to real ones", () => {
  const r = createRedactor(["", "tok", undefined]);
  assert.equal(r.text("a tok b"), `a ${REDACTED} b`);
});

Deno.test("createRedactor removes each of the three URL encodings of a secret that differ", () => {
  const secret = "a&b c";
  const forms = {
    component: encodeURIComponent(secret), // a%26b%20c
    userInfo: (() => {
      const u = new URL("http://h");
      u.password = secret;
      return u.password;
    })(), // a&b%20c
    query: new URLSearchParams({ s: secret }).toString().slice(2), // a%26b+c
  };
  assert.equal(new Set(Object.values(forms)).size, 3, "the three forms differ");
  const r = createRedactor([secret]);
  for (const [name, form] of Object.entries(forms)) {
    assert.equal(r.text(`x=${form};`), `x=${REDACTED};`, name);
  }
});

/** A realistic check event whose structure a short secret could corrupt. */
function sampleEvent(message: string) {
  const factory = new EventFactory({ agent: "kozak-agent-1", now: () => 0 });
  return factory.check({
    module: "tcp",
    target: "127.0.0.1:5432",
    status: "error",
    reason: "refused",
    message,
    duration_ms: 12.5,
    details: { address: "127.0.0.1", port: 5432, phase: "connect", note: "a token a" },
  });
}

Deno.test("a short secret never touches an event's structure, only whole tokens in its free text", () => {
  for (const secret of ["a", "ok", "0", "1", "tcp", "127"]) {
    const r = createRedactor([{ name: "MYSQL_PASSWORD", value: secret }]);
    assert.deepEqual(r.short, ["MYSQL_PASSWORD"], secret);
    const event = sampleEvent(`login failed with ${secret} as the password`);
    const json = r.json(event);
    const parsed = JSON.parse(json);
    assert.deepEqual(validateEvent(parsed), { ok: true }, `${secret}: ${json}`);
    for (const field of ["v", "type", "id", "seq", "agent", "timestamp", "module", "status"]) {
      assert.deepEqual(parsed[field], (event as unknown as Record<string, unknown>)[field], field);
    }
    assert.equal(parsed.reason, "refused");
    assert.equal(parsed.duration_ms, 12.5);
    assert.equal(parsed.details.port, 5432);
    assert.equal(parsed.message, `login failed with ${REDACTED} as the password`, secret);
  }
});

Deno.test("a short secret is replaced where it stands alone, never inside a word", () => {
  const r = createRedactor(["a"]);
  assert.equal(r.text("kozak agent status: a"), `kozak agent status: ${REDACTED}`);
  assert.equal(r.text("(a) a, a."), `(${REDACTED}) ${REDACTED}, ${REDACTED}.`);
  assert.equal(r.text("abc bca cab"), "abc bca cab");
});

Deno.test("a secret of MIN_SECRET_LENGTH characters is replaced anywhere, also inside words", () => {
  const secret = "x".repeat(MIN_SECRET_LENGTH);
  const r = createRedactor([secret]);
  assert.deepEqual(r.short, []);
  assert.equal(r.text(`a${secret}b`), `a${REDACTED}b`);
});

Deno.test("redactor.json() removes a long secret from every free-text field and keeps the event valid", () => {
  const secret = "Sup3r$ecret/pass word";
  const r = createRedactor([{ name: "POSTGRES_PASSWORD", value: secret }]);
  const event = sampleEvent(
    `auth failed: ${secret}; url postgres://u:${encodeURIComponent(secret)}@h/`,
  );
  event.target = `127.0.0.1:5432/${secret}`;
  event.details = { error: `server said ${JSON.stringify(secret)}`, list: [secret, 1] };
  const json = r.json(event);
  for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
    assert.ok(!json.includes(form), `leaked ${form}: ${json}`);
  }
  const parsed = JSON.parse(json);
  assert.deepEqual(validateEvent(parsed), { ok: true });
  assert.equal(parsed.target, `127.0.0.1:5432/${REDACTED}`);
  assert.deepEqual(parsed.details.list, [REDACTED, 1]);
  assert.equal(parsed.id, event.id);
  assert.deepEqual(r.event(event), parsed, "event() is what json() serializes");
});

Deno.test("redactor.json() without any secret in the event is plain JSON.stringify", () => {
  const r = createRedactor(["not-in-there"]);
  const event = sampleEvent("all fine");
  assert.equal(r.json(event), JSON.stringify(event));
});

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
