import assert from "node:assert/strict";
import { closest, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("host", "host"), 0);
  assert.equal(editDistance("hots", "host"), 2);
  assert.equal(editDistance("TCP_CHECK", "TCP_CHECKS"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("Port", "port"), 0);
});

Deno.test("closest names a near word and nothing for a far one", () => {
  const keys = ["host", "port", "user", "password", "password_file", "db"];
  assert.equal(closest("hots", keys), "host");
  assert.equal(closest("pasword", keys), "password");
  assert.equal(closest("passwordfile", keys), "password_file");
  assert.equal(closest("xyzzy", keys), undefined);
  assert.equal(didYouMean("prot", keys), " (did you mean port?)");
  assert.equal(didYouMean("completely_else", keys), "");
});
