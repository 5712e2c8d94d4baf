import assert from "node:assert/strict";
import { EventQueue } from "../queue.ts";
import { denoSpoolFs, Spool, type SpoolFs } from "./spool.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const event = (pos: number, bytes = 40) => ({
  pos,
  createdAt: 1_700_000_000_000 + pos,
  data: JSON.stringify({ seq: pos, run: "r", id: `e${pos}`, pad: "x".repeat(bytes) }),
});

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kozak-spool-" });
  try {
    await fn(`${dir}/spool`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const files = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("the spool gives back, in order, every event neither confirmed nor dropped", () =>
  withDir((dir) => {
    const first = Spool.open({ dir, log: quiet });
    assert.deepEqual(first.events, []);
    for (let pos = 1; pos <= 6; pos++) assert.ok(first.spool.append(event(pos)));
    first.spool.confirm(2);
    first.spool.drop(4);
    first.spool.close();
    const again = Spool.open({ dir, log: quiet });
    assert.deepEqual(again.events, [event(3), event(5), event(6)]);
    assert.equal(again.corrupt, 0);
    again.spool.close();
  }));

Deno.test("spool files are 0600 in a 0700 directory", () =>
  withDir((dir) => {
    const { spool } = Spool.open({ dir, log: quiet });
    spool.append(event(1));
    spool.close();
    assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
    for (const name of files(dir)) {
      assert.equal(Deno.statSync(`${dir}/${name}`).mode! & 0o777, 0o600, name);
    }
  }));

Deno.test("a segment is deleted once it and every older one hold nothing waiting", () =>
  withDir((dir) => {
    const { spool } = Spool.open({ dir, log: quiet, segmentBytes: 300 });
    for (let pos = 1; pos <= 12; pos++) spool.append(event(pos));
    const many = files(dir).length;
    assert.ok(many >= 4, `${many} segments`);
    spool.drop(12); // in the newest segment: nothing can go yet
    assert.equal(files(dir).length, many);
    spool.confirm(6);
    const fewer = files(dir).length;
    assert.ok(fewer < many, `${fewer} of ${many}`);
    spool.confirm(11);
    assert.equal(files(dir).length, 1, "only the current segment is left");
    spool.close();
    const again = Spool.open({ dir, log: quiet });
    assert.deepEqual(again.events, []);
    again.spool.close();
  }));

Deno.test("garbage appended to a segment and a segment cut mid-record are skipped, counted, and the rest delivered", () =>
  withDir((dir) => {
    const { spool } = Spool.open({ dir, log: quiet, segmentBytes: 400 });
    for (let pos = 1; pos <= 8; pos++) spool.append(event(pos));
    spool.close();
    const names = files(dir);
    assert.ok(names.length >= 2);
    Deno.writeFileSync(`${dir}/${names[0]}`, new TextEncoder().encode("\x00garbage KZ\xff"), {
      append: true,
    });
    const last = `${dir}/${names.at(-1)}`;
    const bytes = Deno.readFileSync(last);
    Deno.writeFileSync(last, bytes.subarray(0, bytes.length - 7)); // torn last record
    const warnings: string[] = [];
    const again = Spool.open({ dir, log: { ...quiet, warn: (m: string) => warnings.push(m) } });
    assert.equal(again.corrupt, 2);
    assert.deepEqual(again.events.map((e) => e.pos), [1, 2, 3, 4, 5, 6, 7]);
    assert.match(warnings[0], /corrupt or torn records skipped/);
    again.spool.close();
  }));

Deno.test("a full disk degrades the spool: logged and counted once, the events stay in memory, a rewrite brings it back", () =>
  withDir((dir) => {
    let full = false;
    const fs: SpoolFs = {
      ...denoSpoolFs,
      open(path) {
        const file = denoSpoolFs.open(path);
        return {
          ...file,
          write(bytes) {
            if (full) throw new Deno.errors.WriteZero("No space left on device (os error 28)");
            file.write(bytes);
          },
        };
      },
    };
    const errors: string[] = [];
    const { spool } = Spool.open({
      dir,
      log: { ...quiet, error: (m: string) => errors.push(m) },
      fs,
      retryMs: 0,
    });
    const queue = new EventQueue(100, "drop-oldest", { spool });
    const input = (seq: number) => ({ seq, run: "r", id: `e${seq}`, data: event(seq).data });
    queue.push(input(1));
    full = true;
    queue.push(input(2));
    queue.push(input(3));
    assert.equal(queue.size, 3, "nothing is lost from memory");
    assert.ok(spool.degraded);
    assert.equal(spool.failures, 1, "later writes are not even tried");
    assert.equal(errors.length, 1);
    full = false;
    assert.ok(spool.retryDue());
    assert.ok(spool.rewrite(queue.waiting()));
    assert.equal(spool.degraded, false);
    spool.close();
    const again = Spool.open({ dir, log: quiet });
    assert.deepEqual(again.events.map((e) => e.pos), [1, 2, 3]);
    again.spool.close();
  }));

Deno.test("a queue with a spool keeps disk and memory agreeing through acks, overflow and restart", () =>
  withDir((dir) => {
    const open = () => Spool.open({ dir, log: quiet });
    const first = open();
    const queue = new EventQueue(4, "drop-oldest", { spool: first.spool });
    for (let seq = 1; seq <= 6; seq++) {
      queue.push({ seq, run: "run-1", id: `a${seq}`, data: event(seq).data });
    }
    assert.equal(queue.dropped, 2); // 1 and 2 dropped for 5 and 6
    queue.markSent(4);
    queue.confirmSent(queue.inFlightPos({ run: "run-1", seq: 3 })!);
    first.spool.close();
    const second = open();
    assert.deepEqual(second.events.map((e) => e.pos), [4, 5, 6]);
    const restarted = new EventQueue(10, "drop-oldest", { spool: second.spool });
    assert.equal(restarted.restore(second.events), 0);
    restarted.push({ seq: 1, run: "run-2", id: "b1", data: "{}" });
    assert.deepEqual(restarted.waiting().map((w) => w.pos), [4, 5, 6, 7]);
    second.spool.close();
  }));
