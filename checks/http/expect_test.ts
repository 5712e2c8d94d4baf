import assert from "node:assert/strict";
import {
  bodyMatches,
  describeMatch,
  describeRanges,
  parseBodyMatch,
  parseStatusRanges,
  statusExpected,
} from "./expect.ts";

Deno.test("parseStatusRanges() takes codes and ranges, in any spacing, and says which item is bad", () => {
  assert.deepEqual(parseStatusRanges("200-299"), [[200, 299]]);
  assert.deepEqual(parseStatusRanges(" 200 , 301 - 302,404"), [[200, 200], [301, 302], [404, 404]]);
  assert.deepEqual(parseStatusRanges("100-599"), [[100, 599]]);
  const bad: [string, RegExp][] = [
    ["", /: is empty/],
    [",", /: is empty/],
    ["2xx", /: "2xx" is not a status code or a range like 200-299$/],
    ["200-", /: "200-" is not a status code/],
    ["99", /: "99" is not a status code/],
    ["1000", /: "1000" is not a status code/],
    ["600", /: "600": status codes run from 100 to 599$/],
    ["200-600", /: "200-600": status codes run from 100 to 599$/],
    ["300-200", /: "300-200": the range runs backwards$/],
    ["200,abc", /: "abc" is not a status code/],
  ];
  for (const [text, pattern] of bad) assert.throws(() => parseStatusRanges(text), pattern, text);
});

Deno.test("statusExpected() holds exactly inside the ranges; describeRanges() writes them back", () => {
  const ranges = parseStatusRanges("200-204,301");
  for (const code of [200, 204, 301]) assert.ok(statusExpected(ranges, code), `${code}`);
  for (const code of [199, 205, 300, 302, 500]) assert.ok(!statusExpected(ranges, code), `${code}`);
  assert.equal(describeRanges(ranges), "200-204,301");
});

Deno.test("parseBodyMatch() takes /regex/flags as a regular expression, anything else as a substring", () => {
  assert.deepEqual(parseBodyMatch("ok"), { kind: "substring", text: "ok" });
  assert.deepEqual(parseBodyMatch("/"), { kind: "substring", text: "/" });
  assert.deepEqual(parseBodyMatch("//"), { kind: "substring", text: "//" });
  assert.deepEqual(parseBodyMatch("a/b/"), { kind: "substring", text: "a/b/" });
  assert.deepEqual(parseBodyMatch("/a/b/"), { kind: "regex", source: "a/b", flags: "" });
  assert.deepEqual(parseBodyMatch("/^up$/mi"), { kind: "regex", source: "^up$", flags: "mi" });
  assert.throws(() => parseBodyMatch("/x/g"), /may be i, m, s and u, once each/);
  assert.throws(() => parseBodyMatch("/x/ii"), /once each/);
  assert.throws(() => parseBodyMatch("/[/"), /is not a valid regular expression/);
});

Deno.test("bodyMatches() finds a substring as written, or the regular expression with its flags", () => {
  const body = "status: UP\nversion: 1.2\n";
  assert.ok(bodyMatches(parseBodyMatch("status: UP"), body));
  assert.ok(!bodyMatches(parseBodyMatch("status: up"), body));
  assert.ok(!bodyMatches(parseBodyMatch(".*"), body), "a substring is not a pattern");
  assert.ok(bodyMatches(parseBodyMatch("/^version: \\d+\\.\\d+$/m"), body));
  assert.ok(!bodyMatches(parseBodyMatch("/^version: \\d+\\.\\d+$/"), body));
  assert.ok(bodyMatches(parseBodyMatch("/status: up/i"), body));
  assert.equal(describeMatch(parseBodyMatch("UP")), '"UP"');
  assert.equal(describeMatch(parseBodyMatch("/up/i")), "/up/i");
});
