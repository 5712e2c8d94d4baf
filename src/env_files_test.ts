import assert from "node:assert/strict";
import { loadEnv } from "./env_files.ts";

// --- env files -------------------------------------------------------------

function files(map: Record<string, string>) {
  return (path: string) => {
    if (path in map) return map[path];
    throw new Deno.errors.NotFound(path);
  };
}

Deno.test("the process environment wins over .env.local, which wins over .env", () => {
  const loaded = loadEnv({
    cwd: "/app",
    processEnv: (n) => ({ A: "process" } as Record<string, string>)[n],
    readTextFile: files({
      "/app/.env": "A=file\nB=file\nC=file\n",
      "/app/.env.local": "B=local\n",
    }),
  });
  assert.ok(loaded.ok);
  assert.equal(loaded.read("A"), "process");
  assert.equal(loaded.read("B"), "local");
  assert.equal(loaded.read("C"), "file");
  assert.equal(loaded.read("D"), undefined);
  assert.deepEqual(loaded.filesRead, ["/app/.env", "/app/.env.local"]);
});

Deno.test("missing .env files are fine", () => {
  const loaded = loadEnv({ cwd: "/app", processEnv: () => undefined, readTextFile: files({}) });
  assert.ok(loaded.ok);
  assert.deepEqual(loaded.filesRead, []);
  assert.deepEqual(loaded.files, ["/app/.env", "/app/.env.local"]);
});

Deno.test("AGENT_ENV_FILE replaces .env and .env.local", () => {
  const loaded = loadEnv({
    cwd: "/app",
    processEnv: (n) => (n === "AGENT_ENV_FILE" ? "/etc/kozak.env" : undefined),
    readTextFile: files({ "/etc/kozak.env": "A=explicit\n", "/app/.env": "A=dotenv\nB=dotenv\n" }),
  });
  assert.ok(loaded.ok);
  assert.equal(loaded.read("A"), "explicit");
  assert.equal(loaded.read("B"), undefined);
  assert.deepEqual(loaded.files, ["/etc/kozak.env"]);
});

Deno.test("a missing AGENT_ENV_FILE stops start-up naming the variable", () => {
  const loaded = loadEnv({
    cwd: "/app",
    processEnv: (n) => (n === "AGENT_ENV_FILE" ? "/nope.env" : undefined),
    readTextFile: files({}),
  });
  assert.equal(loaded.ok, false);
  if (!loaded.ok) {
    assert.equal(loaded.variable, "AGENT_ENV_FILE");
    assert.match(loaded.message, /\/nope.env: no such file/);
  }
});

Deno.test("env files are parsed with quotes and comments", () => {
  const loaded = loadEnv({
    cwd: "/app",
    processEnv: () => undefined,
    readTextFile: files({
      "/app/.env": `# comment\nA="quoted value"\nB='single'\nC=plain # trailing\n`,
    }),
  });
  assert.ok(loaded.ok);
  assert.equal(loaded.read("A"), "quoted value");
  assert.equal(loaded.read("B"), "single");
  assert.equal(loaded.read("C"), "plain");
});
