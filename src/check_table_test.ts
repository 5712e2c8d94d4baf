import assert from "node:assert/strict";
import { renderTable } from "./check_table.ts";
import { EventFactory } from "./protocol.ts";

Deno.test("renderTable aligns one row per event and sums up what is not ok", () => {
  const factory = new EventFactory({ agent: "a", now: () => 0 });
  const table = renderTable([
    factory.check({ module: "tcp", target: "127.0.0.1:22", status: "ok", duration_ms: 1.23 }),
    factory.check({
      module: "postgres",
      target: "db:5432/app",
      status: "error",
      reason: "auth",
      message: "login as app refused",
      duration_ms: 12,
    }),
  ]);
  assert.equal(
    table,
    [
      "MODULE    TARGET        STATUS  REASON  TIME     MESSAGE",
      "tcp       127.0.0.1:22  OK              1.2 ms",
      "postgres  db:5432/app   ERROR   auth    12.0 ms  login as app refused",
      "",
      "2 check(s): 1 ok, 1 not ok",
    ].join("\n"),
  );
});

Deno.test("renderTable with no events prints the header and a zero summary", () => {
  assert.equal(
    renderTable([]),
    "MODULE  TARGET  STATUS  REASON  TIME  MESSAGE\n\n0 check(s): 0 ok, 0 not ok",
  );
});
