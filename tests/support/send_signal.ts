/**
 * `deno run --allow-run=kill send_signal.ts TERM 1234` sends SIGTERM to PID
 * 1234 (`-1234`: to process group 1234); with `--until-gone` it sends it again
 * and again until the process has ended. Tests use it because `Deno.kill`
 * would need an unrestricted `--allow-run`; this may run `kill` only.
 *
 * @module
 */

const [signal, target, mode] = Deno.args;
if (!/^[A-Z0-9]+$/.test(signal ?? "") || !/^-?\d+$/.test(target ?? "")) {
  console.error("usage: send_signal.ts SIGNAL [-]PID [--until-gone]");
  Deno.exit(2);
}
// With --until-gone one `kill` names the target many times, so signals follow each other closely.
const copies = mode === "--until-gone" ? 500 : 1;
const send = async () =>
  (await new Deno.Command("kill", {
    args: [`-${signal}`, "--", ...Array(copies).fill(target)],
    stderr: "null",
  }).output()).code;
if (mode !== "--until-gone") Deno.exit(await send());
// Bounded: a process that outlives 20,000 signals is a failure the caller sees (exit 1).
for (let i = 0; i < 20_000; i++) {
  if (await send() !== 0) Deno.exit(0); // gone
}
Deno.exit(1);
