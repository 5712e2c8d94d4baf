import assert from "node:assert/strict";
import { parseStubStatus, StubStatusError } from "./stub_status.ts";

const FIXTURES = new URL("../../tests/fixtures/nginx/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

/** Captured from Debian's nginx 1.22.1 (see tests/fixtures/nginx/README.md). */
const IDLE = fixture("stub_status_idle.txt");
const BUSY = fixture("stub_status_busy.txt");

function rejects(body: string, pattern: RegExp): void {
  assert.throws(() => parseStubStatus(body), (error: unknown) => {
    assert.ok(error instanceof StubStatusError, `not a StubStatusError: ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("parseStubStatus reads a page captured from an idle nginx", () => {
  assert.deepEqual(parseStubStatus(IDLE), {
    active: 1,
    accepts: 5,
    handled: 5,
    requests: 5,
    reading: 0,
    writing: 1,
    waiting: 0,
  });
});

Deno.test("parseStubStatus reads a page captured under load with reading and waiting connections", () => {
  assert.deepEqual(parseStubStatus(BUSY), {
    active: 8,
    accepts: 15,
    handled: 15,
    requests: 1513,
    reading: 3,
    writing: 1,
    waiting: 4,
  });
});

Deno.test("parseStubStatus keeps nginx's exact bytes: trailing blanks and a final line end", () => {
  // The captured pages are what the parser must accept byte for byte.
  assert.ok(IDLE.startsWith("Active connections: 1 \n"));
  assert.ok(IDLE.endsWith("Waiting: 0 \n"));
  assert.equal(parseStubStatus(IDLE.replaceAll(" \n", "\n")).requests, 5);
  assert.equal(parseStubStatus(IDLE.replaceAll("\n", "\r\n")).requests, 5);
  assert.equal(parseStubStatus(IDLE + "\n\n").requests, 5);
  // Blanks between values may vary; the labels may not (see the look-alike tests).
  const spaced = BUSY.replace(" 15 15 1513 ", "\t15  15\t1513").replace("Reading: 3", "Reading:3 ");
  assert.deepEqual(parseStubStatus(spaced), parseStubStatus(BUSY));
});

Deno.test("parseStubStatus accepts Tengine's variant with request_time in milliseconds", () => {
  // Tengine writes " %uA %uA %uA %uA\n" under "server accepts handled requests request_time".
  const page = "Active connections: 2 \nserver accepts handled requests request_time\n" +
    " 166 166 13144 21\nReading: 0 Writing: 1 Waiting: 1 \n";
  assert.deepEqual(parseStubStatus(page), {
    active: 2,
    accepts: 166,
    handled: 166,
    requests: 13144,
    requestTimeMs: 21,
    reading: 0,
    writing: 1,
    waiting: 1,
  });
  rejects(page.replace(" 21\n", "\n"), /line 3: expected 4 numbers .*got 3/);
});

Deno.test("parseStubStatus rejects every truncation of a real page and never returns numbers for one", () => {
  for (const page of [IDLE, BUSY]) {
    for (let length = 0; length < page.length; length++) {
      const cut = page.slice(0, length);
      rejects(cut, /truncated|empty/);
    }
  }
});

Deno.test("parseStubStatus says where a page was cut off", () => {
  const lines = BUSY.split("\n");
  rejects(lines.slice(0, 2).join("\n") + "\n", /truncated: the body ends before line 3/);
  rejects(lines.slice(0, 1).join("\n") + "\n", /ends before line 2, "server accepts/);
  rejects(lines.slice(0, 3).join("\n") + "\n", /ends before line 4, "Reading/);
  // " 15 15 15" of " 15 15 1513 ": a shorter number that would parse, were it not cut.
  rejects(BUSY.slice(0, BUSY.indexOf("1513") + 2), /inside line 3 .*may be cut off/);
  rejects(BUSY.slice(0, -2), /inside line 4/);
  rejects(BUSY.slice(0, -1), /inside line 4 .*without a line end/);
});

Deno.test("parseStubStatus rejects an empty body and blanks", () => {
  rejects("", /the body is empty/);
  rejects(" \n\n\t\n", /only blanks/);
});

Deno.test("parseStubStatus rejects garbage with the line that was wrong", () => {
  rejects("hello world\n", /line 1: expected "Active connections: N", got "hello world"/);
  rejects("hello world", /line 1: expected "Active connections: N"/);
  rejects("\u0000\u0001\u0002\n", /line 1/);
  rejects("\n" + IDLE, /line 1: expected "Active connections: N", got ""/);
  rejects("x".repeat(5000) + "\n", /line 1: .*…"/);
});

Deno.test("parseStubStatus rejects nginx's own HTML pages (captured 404 and 301) as HTML", () => {
  rejects(fixture("nginx_404_html.txt"), /line 1: .*looks like HTML/);
  rejects(fixture("nginx_301_html.txt"), /line 1: .*looks like HTML/);
  rejects(
    "<html><body><h1>Active connections: 1</h1></body></html>\n",
    /line 1: .*looks like HTML/,
  );
});

Deno.test("parseStubStatus rejects look-alikes: NGINX Plus JSON, Apache's server-status, reordered fields", () => {
  rejects(
    '{"connections":{"accepted":15,"dropped":0,"active":1,"idle":0}}\n',
    /looks like JSON/,
  );
  rejects(
    "Total Accesses: 10\nTotal kBytes: 5\nBusyWorkers: 1\nIdleWorkers: 9\n",
    /line 1: expected "Active connections: N", got "Total Accesses: 10"/,
  );
  rejects(
    IDLE.replace("Reading: 0 Writing: 1", "Writing: 1 Reading: 0"),
    /line 4: expected "Reading: N Writing: N Waiting: N"/,
  );
  rejects(IDLE.replace("Active connections", "active connections"), /line 1/);
  rejects(IDLE.replace("server accepts handled requests", "server accepts handled"), /line 2/);
  rejects(
    IDLE.replace("server accepts handled requests", "server handled accepts requests"),
    /line 2: expected "server accepts handled requests"/,
  );
  rejects(IDLE + "Uptime: 5\n", /line 5: unexpected content after the Waiting line: "Uptime: 5"/);
});

Deno.test("parseStubStatus rejects values that are not whole numbers, naming the field", () => {
  rejects(
    IDLE.replace("Active connections: 1", "Active connections: many"),
    /"Active connections" is not a whole number: "many"/,
  );
  rejects(
    IDLE.replace("Active connections: 1 ", "Active connections: "),
    /"Active connections" is not a whole number: ""/,
  );
  rejects(IDLE.replace(" 5 5 5 ", " 5 five 5 "), /line 3: "handled" is not a whole number: "five"/);
  rejects(IDLE.replace(" 5 5 5 ", " 5 5 -5 "), /"requests" is not a whole number: "-5"/);
  rejects(IDLE.replace(" 5 5 5 ", " 5 5 5.5 "), /"requests" is not a whole number: "5.5"/);
  rejects(IDLE.replace(" 5 5 5 ", " +5 5 5 "), /"accepts" is not a whole number: "\+5"/);
  rejects(IDLE.replace(" 5 5 5 ", " 0x5 5 5 "), /"accepts" is not a whole number/);
  rejects(IDLE.replace("Waiting: 0", "Waiting: 1e3"), /"Waiting" is not a whole number: "1e3"/);
  rejects(IDLE.replace("Reading: 0", "Reading: NaN"), /"Reading" is not a whole number/);
  rejects(
    IDLE.replace(" 5 5 5 ", " 5 5 \n"),
    /line 3: expected 3 numbers \(accepts handled requests\), got 2/,
  );
  rejects(IDLE.replace(" 5 5 5 ", " 5 5 5 5 "), /line 3: expected 3 numbers .*got 4/);
  rejects(IDLE.replace(" 5 5 5 ", " "), /line 3: expected 3 numbers .*got 0/);
});

Deno.test("parseStubStatus rejects counters too large for a JSON number rather than rounding them", () => {
  rejects(IDLE.replace(" 5 5 5 ", " 18446744073709551615 5 5 "), /"accepts" .* too large/);
  assert.equal(
    parseStubStatus(IDLE.replace(" 5 5 5 ", ` ${Number.MAX_SAFE_INTEGER} 5 5 `)).accepts,
    Number.MAX_SAFE_INTEGER,
  );
});
