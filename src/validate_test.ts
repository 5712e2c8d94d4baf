import assert from "node:assert/strict";
import { MODULES } from "../checks/mod.ts";
import { parseChecksFile } from "./checks_file.ts";
import { type AgentConfig, resolveConfig } from "./config.ts";
import { renderValidation, selectInstances, validationCode } from "./validate.ts";

function config(vars: Record<string, string>, files: Record<string, string> = {}): AgentConfig {
  const result = resolveConfig((n) => vars[n], {
    modules: MODULES,
    hostname: () => "h",
    parseChecksFile,
    readFile: (p) =>
      files[p] ?? (() => {
        throw new Deno.errors.NotFound(p);
      })(),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const FILE = "checks:\n  - { module: tcp, name: edge, checks: [a:1, b:2, c:3, d:4] }\n" +
  "  - { module: postgres, name: db, labels: { team: x }, host: db }\n";

Deno.test("renderValidation lists instances, permissions and every problem; a config error is exit 2", () => {
  const c = config({ AGENT_ID: "web-1", AGENT_CHECKS_FILE: "/c.yaml" }, { "/c.yaml": FILE });
  const v = { config: c, flags: ["--allow-net=a:1"], problems: [] };
  const text = renderValidation(v);
  assert.match(text, /^agent: web-1; monitoring: ws:\/\/localhost:8765\/\nchecks file: \/c\.yaml/);
  assert.match(text, /edge +tcp +a:1, b:2, c:3 … \(4\) +30 s +5 s +- +ok/);
  assert.match(text, /db +postgres +db:5432\/postgres +30 s +5 s +team=x +config error/);
  assert.match(text, /permissions of the agent \(deno task start\):\n {2}--allow-net=a:1/);
  assert.match(text, /problems:\n {2}db: \/c\.yaml:3:5: user: is required/);
  assert.match(text, /\nnot valid$/);
  assert.equal(validationCode(v), 2);
});

Deno.test("a valid configuration is exit 0 and says so", () => {
  const c = config({ AGENT_ID: "web-1", ENABLED_MODULES: "tcp", TCP_CHECKS: "a:1" });
  const v = { config: c, flags: [], problems: [] };
  assert.equal(validationCode(v), 0);
  assert.match(renderValidation(v), /\nvalid$/);
  assert.equal(validationCode({ problems: [{ variable: "X", message: "bad" }] }), 2);
  assert.match(
    renderValidation({ problems: [{ variable: "X", message: "bad" }] }),
    /config error: X: bad/,
  );
});

Deno.test("selectInstances takes instance and module names, and names the unknown ones", () => {
  const c = config({ AGENT_CHECKS_FILE: "/c.yaml" }, { "/c.yaml": FILE });
  assert.deepEqual(selectInstances(c.checks, ["edge"]).selected.length, 4);
  assert.deepEqual(selectInstances(c.checks, ["postgres"]).selected.map((u) => u.instance), ["db"]);
  assert.deepEqual(selectInstances(c.checks, ["db", "nope"]).unknown, ["nope"]);
  assert.equal(selectInstances(c.checks, []).selected.length, 5);
});
