import assert from "node:assert/strict";
import { readSecret, secretFromFileText } from "./secret_files.ts";

const names = { direct: "POSTGRES_PASSWORD", file: "POSTGRES_PASSWORD_FILE" };
const files: Record<string, string> = {
  "/run/secrets/pg": "s3cret pw\n",
  "/e": "",
  "/two": "a\n\n",
};
const read = (path: string) => {
  if (path in files) return files[path];
  throw new Deno.errors.NotFound(path);
};

Deno.test("a secret file's content loses exactly one trailing newline", () => {
  assert.equal(secretFromFileText("pw\n"), "pw");
  assert.equal(secretFromFileText("pw\r\n"), "pw");
  assert.equal(secretFromFileText("pw\n\n"), "pw\n");
  assert.equal(secretFromFileText(" pw "), " pw ");
});

Deno.test("readSecret takes the value, or the file's content, and says which file", () => {
  assert.deepEqual(readSecret("pw", undefined, names, read), { ok: true, value: "pw" });
  assert.deepEqual(readSecret(undefined, "/run/secrets/pg", names, read), {
    ok: true,
    value: "s3cret pw",
    file: "/run/secrets/pg",
  });
  assert.deepEqual(readSecret(undefined, undefined, names, read), { ok: true, value: undefined });
  assert.deepEqual(readSecret(undefined, "/two", names, read), {
    ok: true,
    value: "a\n",
    file: "/two",
  });
});

Deno.test("readSecret refuses both forms, a missing file and an empty one, never quoting the value", () => {
  const both = readSecret("hunter2", "/run/secrets/pg", names, read);
  assert.deepEqual(both, {
    ok: false,
    message: "POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set: use one of them",
  });
  const missing = readSecret(undefined, "/nope", names, read);
  assert.ok(
    !missing.ok && /POSTGRES_PASSWORD_FILE: cannot read \/nope: no such file/.test(missing.message),
  );
  const empty = readSecret(undefined, "/e", names, read);
  assert.ok(!empty.ok && /is empty/.test(empty.message));
});
