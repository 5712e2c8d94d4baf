/**
 * bin/kozak-supervise on its own, with a stand-in `deno` first on PATH: the
 * plan step prints a plan the test wrote, and "the agent" is a small shell
 * script whose behaviour the test sets per start. This reaches what the real
 * agent rarely does on cue: exit 75 with a hand-over, ignore SIGTERM, exit 3.
 * The real tree (`deno task start` → sh → deno main.ts) is tested in
 * tests/launcher_test.ts and the end-to-end tests.
 */

import assert from "node:assert/strict";
import { planLines } from "../launcher.ts";
import { AGENT_V8_FLAGS } from "../src/launcher_flags.ts";
import { ROOT, waitFor } from "./support/processes.ts";
import { processTable } from "./support/process_tree.ts";

const FAKE_DENO = `#!/bin/sh
# A stand-in for deno: \`run … plan start …\` prints the test's plan; any other
# \`run SCRIPT …\` runs the script with sh.
[ "$1" = run ] && shift
case " $* " in
  *" plan start"*)
    printf '%s\\n' "$*" >>"$FAKE_DIR/plans"
    [ -f "$FAKE_DIR/plan_code" ] && exit "$(cat "$FAKE_DIR/plan_code")"
    cat "$FAKE_DIR/plan"
    exit 0 ;;
esac
exec sh "$@"
`;

const FAKE_AGENT = `n=$(( $(cat "$FAKE_DIR/starts" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$FAKE_DIR/starts"
echo "start $n supervised=\${KOZAK_SUPERVISED-} handover=\${KOZAK_HANDOVER-} args=$*" >>"$FAKE_DIR/log"
if [ "\${KOZAK_HANDOVER-}" = stdin ]; then cat >"$FAKE_DIR/stdin.$n"; fi
if [ -f "$FAKE_DIR/behaviour.$n" ]; then . "$FAKE_DIR/behaviour.$n"; else . "$FAKE_DIR/behaviour"; fi
`;

/** Runs until SIGTERM (exit 0), noting SIGHUP. */
const UNTIL_TERM = `trap 'echo term >>"$FAKE_DIR/log"; exit 0' TERM
trap 'echo hup >>"$FAKE_DIR/log"' HUP
echo ready >>"$FAKE_DIR/log"
i=0
while [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
exit 9
`;

interface Fake {
  dir: string;
  run(): Promise<{ child: Deno.ChildProcess; output: Promise<Deno.CommandOutput> }>;
  log(): Promise<string[]>;
  cleanup(): Promise<void>;
}

async function fake(grace: string, behaviours: Record<string, string>): Promise<Fake> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-supervise-test-" });
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(`${dir}/bin/deno`, FAKE_DENO, { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/agent.sh`, FAKE_AGENT);
  await Deno.writeTextFile(`${dir}/plan`, [grace, "run", `${dir}/agent.sh`, "a b"].join("\n"));
  for (const [name, text] of Object.entries(behaviours)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  let child: Deno.ChildProcess | undefined;
  return {
    dir,
    run() {
      child = new Deno.Command("sh", {
        args: [`${ROOT}bin/kozak-supervise`, "start"],
        env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}`, FAKE_DIR: dir, TMPDIR: dir },
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      return Promise.resolve({ child, output: child.output() });
    },
    async log() {
      try {
        return (await Deno.readTextFile(`${dir}/log`)).trim().split("\n");
      } catch {
        return [];
      }
    },
    async cleanup() {
      try {
        child?.kill("SIGKILL");
      } catch { /* gone */ }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Processes still running from this test's directory (the stand-ins carry its path). */
async function leftoversOf(dir: string) {
  return (await processTable()).filter((p) => p.args.includes(dir) && !p.stat.startsWith("Z"));
}

Deno.test("kozak-supervise: exit 75 starts the next agent with a fresh plan and the hand-over on stdin", async () => {
  const f = await fake("2", {
    "behaviour.1": `printf 'queued\\001events\\n'; exit 75\n`,
    behaviour: UNTIL_TERM,
  });
  try {
    const { child, output } = await f.run();
    await waitFor("the second agent", async () => (await f.log()).includes("ready"));
    child.kill("SIGTERM");
    const out = await output;
    assert.equal(out.code, 0, text(out.stderr));
    const log = await f.log();
    assert.deepEqual(log.filter((l) => l.startsWith("start")), [
      "start 1 supervised=1 handover= args=a b",
      "start 2 supervised=1 handover=stdin args=a b",
    ]);
    assert.ok(log.includes("term"));
    assert.equal(await Deno.readTextFile(`${f.dir}/stdin.2`), "queued\x01events\n");
    const plans = (await Deno.readTextFile(`${f.dir}/plans`)).trim().split("\n");
    assert.equal(plans.length, 2, "the flags are computed again for the restart");
    assert.match(text(out.stderr), /asked for a restart/);
    assert.equal(text(out.stdout), "", "a hand-over is not the supervisor's output");
    assert.deepEqual(await leftoversOf(f.dir), []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("kozak-supervise: SIGHUP is forwarded and stops nothing; SIGTERM then ends it with exit 0", async () => {
  const f = await fake("2", { behaviour: UNTIL_TERM });
  try {
    const { child, output } = await f.run();
    await waitFor("the agent", async () => (await f.log()).includes("ready"));
    child.kill("SIGHUP");
    await waitFor("the forwarded SIGHUP", async () => (await f.log()).includes("hup"));
    assert.ok(!(await f.log()).includes("term"));
    child.kill("SIGTERM");
    assert.equal((await output).code, 0);
    assert.equal((await f.log()).filter((l) => l.startsWith("start")).length, 1);
  } finally {
    await f.cleanup();
  }
});

Deno.test("kozak-supervise: an agent that ignores SIGTERM is killed once the plan's grace is over (137)", async () => {
  const f = await fake("0.3", {
    behaviour: `trap '' TERM INT\necho ready >>"$FAKE_DIR/log"\nexec sleep 60\n`,
  });
  try {
    const { child, output } = await f.run();
    await waitFor("the agent", async () => (await f.log()).includes("ready"));
    child.kill("SIGTERM");
    const out = await output;
    assert.equal(out.code, 128 + 9, text(out.stderr));
    await waitFor("no process left", async () => (await leftoversOf(f.dir)).length === 0 || false);
  } finally {
    await f.cleanup();
  }
});

Deno.test("kozak-supervise: the agent's exit code and stdout are its own", async () => {
  const f = await fake("2", { behaviour: `echo "a line on stdout"\nexit 3\n` });
  try {
    const { output } = await f.run();
    const out = await output;
    assert.equal(out.code, 3);
    assert.equal(text(out.stdout), "a line on stdout\n");
  } finally {
    await f.cleanup();
  }
});

Deno.test("kozak-supervise: a plan that fails (bad configuration) gives its exit code and starts nothing", async () => {
  const f = await fake("2", { behaviour: UNTIL_TERM, plan_code: "2" });
  try {
    const { output } = await f.run();
    assert.equal((await output).code, 2);
    assert.deepEqual(await f.log(), []);
    // The temp directory of the hand-over is gone too.
    const rest = [...Deno.readDirSync(f.dir)].map((e) => e.name).filter((n) =>
      n.startsWith("kozak-supervise.")
    );
    assert.deepEqual(rest, []);
  } finally {
    await f.cleanup();
  }
});

Deno.test("planLines(): the grace in seconds, then deno's arguments; a line break is refused", () => {
  const lines = planLines(["--allow-net=127.0.0.1:1"], 5_000, []);
  assert.ok(Array.isArray(lines));
  assert.equal(lines[0], "6.5");
  assert.deepEqual(lines.slice(1, 5), [
    "run",
    "--no-prompt",
    ...AGENT_V8_FLAGS,
    "--allow-net=127.0.0.1:1",
  ]);
  assert.match(lines.at(-2)!, /main\.ts$/);
  assert.equal(lines.at(-1), "start");
  assert.match(String(planLines(["--allow-read=/a\nb"], 0, [])), /line break/);
});

Deno.test("launcher.ts start without --watch starts nothing and names deno task start (one supervisor)", async () => {
  const out = await new Deno.Command("deno", {
    args: ["run", "--allow-env", "--allow-read", "--allow-run=deno", `${ROOT}launcher.ts`, "start"],
    env: { AGENT_ID: "t", ENABLED_MODULES: "tcp", TCP_CHECKS: "127.0.0.1:1" },
    stdin: "null",
  }).output();
  assert.equal(out.code, 2);
  assert.match(text(out.stderr), /deno task start \(bin\/kozak-supervise\)/);
  assert.equal(text(out.stdout), "");
});
