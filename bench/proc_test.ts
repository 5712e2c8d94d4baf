import assert from "node:assert/strict";
import { parseSmapsRollup, parseStat, parseStatus } from "./proc.ts";

// Captured on this machine (Debian 12, Linux 6.x): a deno process and `cat` itself.
const STATUS = [
  "Name:\tdeno",
  "Umask:\t0022",
  "State:\tS (sleeping)",
  "VmPeak:\t18155768 kB",
  "VmSize:\t18155768 kB",
  "VmLck:\t       0 kB",
  "VmPin:\t       0 kB",
  "VmHWM:\t   44992 kB",
  "VmRSS:\t   43108 kB",
  "RssAnon:\t   20072 kB",
  "RssFile:\t   23036 kB",
  "",
].join("\n");

const ROLLUP = `559640610000-7ffeb80f5000 ---p 00000000 00:00 0                          [rollup]
Rss:                1724 kB
Pss:                 391 kB
Pss_Dirty:           112 kB
Pss_Anon:            112 kB
Pss_File:            279 kB
Pss_Shmem:             0 kB
Shared_Clean:       1572 kB
Shared_Dirty:          0 kB
Private_Clean:        40 kB
Private_Dirty:       112 kB
Referenced:         1724 kB
Anonymous:           112 kB
Swap:                  0 kB
`;

const STAT =
  "6013 (deno) S 6011 6011 15155 0 -1 4194304 4224 0 2 0 29 2 0 0 20 0 6 0 828451 18591506432 11196 18446744073709551615 94758088826880 94758152739696 140733933520096 0 0 0 0 4100 17987 0 0 0 17 0 0 0 0 0 0\n";

Deno.test("parseStatus() reads VmHWM and VmRSS in KiB, not VmPeak", () => {
  assert.deepEqual(parseStatus(STATUS), { hwmKiB: 44992, rssKiB: 43108 });
});

Deno.test("parseStatus() names the missing line (a kernel thread has no VmHWM)", () => {
  assert.throws(() => parseStatus("Name:\tkthreadd\nState:\tS (sleeping)\n"), /no VmHWM line/);
});

Deno.test("parseSmapsRollup() takes USS as Private_Clean + Private_Dirty, and Pss not Pss_Dirty", () => {
  assert.deepEqual(parseSmapsRollup(ROLLUP), { ussKiB: 152, rssKiB: 1724, pssKiB: 391 });
});

Deno.test("parseSmapsRollup() refuses text without the private lines", () => {
  assert.throws(() => parseSmapsRollup("Rss: 10 kB\nPss: 5 kB\n"), /no Private_Clean line/);
});

Deno.test("parseStat() reads utime and stime (fields 14 and 15)", () => {
  assert.deepEqual(parseStat(STAT), { utime: 29, stime: 2 });
});

Deno.test("parseStat() counts fields from the last ')' of a command name with spaces and parentheses", () => {
  const odd = STAT.replace("(deno)", "(a) b (c) d)");
  assert.deepEqual(parseStat(odd), { utime: 29, stime: 2 });
});

Deno.test("parseStat() refuses garbage", () => {
  assert.throws(() => parseStat("not a stat line"), /not a stat line/);
  assert.throws(() => parseStat("1 (x) S 2 3"), /no utime\/stime/);
});
