import assert from "node:assert/strict";
import fc from "fast-check";
import { MODULES } from "../checks/mod.ts";
import { MAX_INSTANCES, parseChecksFile } from "./checks_file.ts";

/** The example of the contract, as an operator would write it. */
const EXAMPLE = Deno.readTextFileSync(
  new URL("../tests/fixtures/checks/contract_example.yaml", import.meta.url),
);

const parse = (text: string) => parseChecksFile("checks.yaml", text, MODULES);

Deno.test("the contract's example parses into two instances with their options as text", () => {
  const file = parse(EXAMPLE);
  assert.deepEqual(file.problems, []);
  assert.deepEqual(file.labels, { region: "eu-1" });
  const [pg, edge] = file.instances;
  assert.equal(pg.module.name, "postgres");
  assert.equal(pg.name, "orders-db");
  assert.equal(pg.where, "checks.yaml:3:5");
  assert.deepEqual(pg.interval, { value: "30", where: "checks.yaml:5:23" });
  assert.deepEqual(pg.labels, { env: "prod", team: "payments" });
  assert.deepEqual(Object.fromEntries([...pg.options].map(([k, v]) => [k, v.value])), {
    host: "127.0.0.1",
    port: "5432",
    user: "monitor",
    password_file: "/run/secrets/pg",
    db: "orders",
  });
  assert.equal(pg.options.get("port")!.where, "checks.yaml:9:11");
  assert.deepEqual(pg.problems, []);
  assert.equal(edge.name, "edge");
  assert.equal(edge.options.get("checks")!.value, "127.0.0.1:443,[::1]:80");
});

Deno.test("JSON is accepted, and unnamed instances are named module, module-2 … in file order", () => {
  const file = parse(JSON.stringify({
    checks: [
      { module: "tcp", checks: "127.0.0.1:1" },
      { module: "postgres", host: "db" },
      { module: "tcp", checks: ["127.0.0.1:2"] },
      { module: "tcp", name: "named", checks: "127.0.0.1:3" },
      { module: "tcp", checks: "127.0.0.1:4" },
    ],
  }));
  assert.deepEqual(file.problems, []);
  assert.deepEqual(file.instances.map((i) => i.name), [
    "tcp",
    "postgres",
    "tcp-2",
    "named",
    "tcp-3",
  ]);
});

Deno.test("an unknown key in an instance is that instance's problem, with its position and a hint", () => {
  const file = parse("checks:\n  - module: postgres\n    hots: db\n    user: u\n");
  assert.deepEqual(file.problems, []);
  assert.deepEqual(file.instances[0].problems, [
    'checks.yaml:3:5: unknown key "hots" for module postgres (did you mean host?)',
  ]);
});

Deno.test("structural problems are agent-wide, each with its position", () => {
  const cases: Array<[string, RegExp]> = [
    ["checks: [\n", /^checks\.yaml:2:1: not valid YAML: /],
    [
      "checks:\n  - module: tcp\n    checks: a:1\n    checks: b:2\n",
      /^checks\.yaml:4:5: a key is given twice/,
    ],
    [
      "checks:\n  - module: postgress\n",
      /^checks\.yaml:2:13: unknown module "postgress" \(did you mean postgres\?\)/,
    ],
    ["checks:\n  - host: db\n", /^checks\.yaml:2:5: this instance has no module: key/],
    [
      "checks:\n  - module: tcp\n    name: Edge One\n",
      /^checks\.yaml:3:11: name "Edge One" must match/,
    ],
    [
      "labels: { instance: x }\n",
      /^checks\.yaml:1:11: label "instance" is set by the agent itself/,
    ],
    ["labels: { 9x: y }\n", /^checks\.yaml:1:11: label name "9x" must match/],
    ["labels: { a: [1] }\n", /^checks\.yaml:1:14: label a must have a string value/],
    ["checks: { module: tcp }\n", /^checks\.yaml:1:9: checks must be a list of instances/],
    ["- module: tcp\n", /^checks\.yaml:1:1: must be a mapping with the keys labels and checks/],
    ["chekcs: []\n", /^checks\.yaml:1:1: unknown key "chekcs" \(did you mean checks\?\)/],
  ];
  for (const [text, pattern] of cases) {
    const file = parse(text);
    assert.equal(
      file.problems.length,
      1,
      `${JSON.stringify(text)}: ${JSON.stringify(file.problems)}`,
    );
    assert.match(file.problems[0], pattern, JSON.stringify(text));
  }
});

Deno.test("a wrong type inside an instance is that instance's problem", () => {
  const file = parse(
    "checks:\n  - module: postgres\n    port: [1, 2]\n    host: { a: 1 }\n    interval_seconds: [3]\n  - module: tcp\n    checks: [[a]]\n",
  );
  assert.deepEqual(file.problems, []);
  assert.deepEqual(file.instances[0].problems, [
    "checks.yaml:3:11: port must be a single value, not a list",
    "checks.yaml:4:11: host must be a single value, not a mapping",
    "checks.yaml:5:23: interval_seconds must be a number of seconds",
  ]);
  assert.deepEqual(file.instances[1].problems, [
    "checks.yaml:7:14: each item of checks must be a single value",
  ]);
});

Deno.test("an empty file, or one without checks, holds no instance and no problem", () => {
  for (const text of ["", "# nothing yet\n", "labels: { a: b }\n", "checks:\n"]) {
    const file = parse(text);
    assert.deepEqual(file.problems, [], JSON.stringify(text));
    assert.deepEqual(file.instances, []);
  }
});

Deno.test(`${MAX_INSTANCES} instances parse; one more is a clear problem`, () => {
  const entries = (n: number) =>
    "checks:\n" +
    Array.from({ length: n }, (_, i) =>
      `  - { module: tcp, checks: "127.0.0.1:${1 + i % 60000}" }\n`).join("");
  const many = parse(entries(MAX_INSTANCES));
  assert.deepEqual(many.problems, []);
  assert.equal(many.instances.length, MAX_INSTANCES);
  assert.equal(many.instances.at(-1)!.name, `tcp-${MAX_INSTANCES}`);
  const tooMany = parse(entries(MAX_INSTANCES + 1));
  assert.match(
    tooMany.problems[0],
    /^checks\.yaml:2:3: checks holds 10001 instances; at most 10000$/,
  );
});

Deno.test("random documents never make the parser throw, and every problem has a position", () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      scalar,
      fc.array(tie("node"), { maxLength: 3 }),
      fc.dictionary(
        fc.constantFrom("module", "name", "host", "port", "checks", "labels", "x"),
        tie("node"),
        { maxKeys: 4 },
      ),
    ),
  })).node;
  const documents = fc.oneof(
    value.map((v) => JSON.stringify(v) ?? ""),
    fc.record({
      labels: fc.option(value),
      checks: fc.array(
        fc.record({ module: fc.constantFrom("tcp", "postgres", "nope", 1) }, {
          requiredKeys: [],
        }),
        { maxLength: 4 },
      ),
    }).map((d) => JSON.stringify(d)),
    fc.string({ maxLength: 60 }),
  );
  fc.assert(
    fc.property(documents, (text) => {
      const file = parse(text);
      for (const p of [...file.problems, ...file.instances.flatMap((i) => i.problems)]) {
        assert.match(p, /^checks\.yaml:\d+:\d+: \S/);
      }
    }),
    { numRuns: 1500, seed: 13 },
  );
});
