/**
 * `deno run --allow-run=kill send_signal.ts TERM 1234` sends SIGTERM to PID
 * 1234 (`-1234`: to process group 1234). Tests use it because `Deno.kill`
 * would need an unrestricted `--allow-run`; this may run `kill` only.
 *
 * @module
 */

const [signal, target] = Deno.args;
if (!/^[A-Z0-9]+$/.test(signal ?? "") || !/^-?\d+$/.test(target ?? "")) {
  console.error("usage: send_signal.ts SIGNAL [-]PID");
  Deno.exit(2);
}
const out = await new Deno.Command("kill", { args: [`-${signal}`, "--", target] }).output();
Deno.exit(out.code);
