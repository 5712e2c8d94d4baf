import assert from "node:assert/strict";
import fc from "fast-check";
import { Failure } from "../../src/check.ts";
import { StartupReader, type StartupStage } from "./startup.ts";

/** Real server answers to a StartupMessage, captured chunk by chunk (see the fixture's "about"). */
const FIXTURE = JSON.parse(
  Deno.readTextFileSync(
    new URL("../../tests/fixtures/postgres/startup_captures.json", import.meta.url),
  ),
) as { captures: Record<string, { chunks: string[] }> };

const hex = (text: string) => new Uint8Array(text.match(/../g)!.map((b) => parseInt(b, 16)));
const captured = (name: string) => FIXTURE.captures[name].chunks.map(hex);
const text = (s: string) => new TextEncoder().encode(s);
const concat = (chunks: Uint8Array[]) => new Uint8Array(chunks.flatMap((c) => [...c]));

/** Pushes every chunk; the outcome of each. */
function feed(chunks: Uint8Array[]): (StartupStage | Failure)[] {
  const reader = new StartupReader();
  return chunks.map((chunk) => reader.push(chunk));
}

/** Splits `bytes` at the given offsets. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

function assertFailure(
  outcome: StartupStage | Failure | undefined,
  reason: string,
  message: RegExp,
) {
  assert.ok(outcome instanceof Failure, `expected a failure, got ${outcome}`);
  assert.equal(outcome.reason, reason);
  assert.match(outcome.message, message);
}

Deno.test("StartupReader follows real startups: auth at the server's first answer, ready at ReadyForQuery", () => {
  const expected: Record<string, StartupStage[]> = {
    // SASL, SASL continue, SASL final + AuthenticationOk … ReadyForQuery, the query's answer
    scram_ok: ["auth", "auth", "ready", "ready"],
    scram_wrong_password: ["auth", "auth", "auth"], // … ErrorResponse 28P01: the driver reports it
    md5_ok: ["auth", "ready", "ready"],
    trust_ok: ["ready", "ready"],
    unknown_database: ["auth", "auth", "auth"], // … AuthenticationOk, ErrorResponse 3D000
  };
  assert.deepEqual(Object.keys(FIXTURE.captures).sort(), Object.keys(expected).sort());
  for (const [name, stages] of Object.entries(expected)) {
    assert.deepEqual(feed(captured(name)), stages, name);
  }
});

Deno.test("StartupReader reads the same real bytes the same way however they are chunked", () => {
  for (const name of Object.keys(FIXTURE.captures)) {
    const chunks = captured(name);
    const whole = concat(chunks);
    const final = feed(chunks).at(-1);
    // one byte at a time
    assert.equal(feed(split(whole, [...whole.keys()])).at(-1), final, `${name}, byte by byte`);
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(whole.length), { maxLength: 12 }), (cuts) => {
        assert.equal(feed(split(whole, cuts)).at(-1), final, `${name}, cut at ${cuts}`);
      }),
      { numRuns: 300, seed: 12 },
    );
  }
});

Deno.test("StartupReader stops reading at ReadyForQuery: what follows is the driver's", () => {
  const reader = new StartupReader();
  assert.equal(reader.push(concat(captured("trust_ok"))), "ready");
  assert.equal(reader.push(text("SSH-2.0-anything, even garbage")), "ready");
  assert.equal(reader.stage, "ready");
});

Deno.test("StartupReader says protocol for servers that are not PostgreSQL", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "an SSH banner",
      text("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
      /^not a PostgreSQL server: unexpected answer to the startup message \(40 bytes: "SSH-2\.0-OpenSSH_" …\)$/,
    ],
    [
      "an HTTP answer",
      text("HTTP/1.1 400 Bad Request\r\n\r\n"),
      /unexpected answer to the startup message \(28 bytes: "HTTP\/1\.1 400 Bad/,
    ],
    ["binary", new Uint8Array([0xde, 0xad, 0xbe, 0xef]), /^$/], // too short to judge: goes on
    [
      "a TLS record",
      new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x40]),
      /unexpected answer .* 16 03 03/,
    ],
    [
      "an R with a huge length",
      new Uint8Array([0x52, 0x7f, 0, 0, 0]),
      /a startup message of 2130706432 bytes/,
    ],
    [
      "an E shorter than its own length field",
      new Uint8Array([0x45, 0, 0, 0, 3]),
      /a startup message of 3 bytes/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    const outcome = new StartupReader().push(bytes);
    if (name === "binary") assert.equal(outcome, "handshake", name);
    else assertFailure(outcome, "protocol", message);
  }
});

Deno.test("StartupReader judges a later frame's length too, after a good first one", () => {
  const authOk = [0x52, 0, 0, 0, 8, 0, 0, 0, 0];
  const outcome = new StartupReader().push(new Uint8Array([...authOk, 0x53, 0, 1, 0, 1]));
  assertFailure(outcome, "protocol", /a startup message of 65537 bytes/);
});

Deno.test("StartupReader says auth for a method the driver cannot answer, wherever the chunks are cut", () => {
  // AuthenticationGSS (7) and AuthenticationSSPI (9), and Kerberos V5 (2)
  for (const code of [2, 7, 9]) {
    const request = new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, code]);
    for (let cut = 0; cut < request.length; cut++) {
      const outcomes = feed(split(request, [cut]));
      assertFailure(outcomes.at(-1), "auth", new RegExp(`request code ${code}\\b`));
      assert.ok(
        outcomes.slice(0, -1).every((o) => o === "auth" || o === "handshake"),
        `cut ${cut}`,
      );
    }
  }
});

Deno.test("StartupReader keeps its verdict: a failed reader reads nothing more", () => {
  const reader = new StartupReader();
  const first = reader.push(text("HTTP/1.1 200 OK\r\n"));
  assert.ok(first instanceof Failure);
  assert.equal(reader.push(concat(captured("trust_ok"))), first);
});

Deno.test("StartupReader never throws on garbage and always answers a stage or a failure", () => {
  const stages = new Set(["handshake", "auth", "ready"]);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      for (const outcome of feed(chunks)) {
        assert.ok(outcome instanceof Failure || stages.has(outcome), String(outcome));
      }
    }),
    { numRuns: 2000, seed: 13 },
  );
});
