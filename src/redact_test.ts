import assert from "node:assert/strict";
import { createRedactor, MIN_SECRET_LENGTH, REDACTED } from "./redact.ts";
import { EventFactory } from "./protocol.ts";
import { validateEvent } from "./schema.ts";

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
