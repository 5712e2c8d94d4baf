import assert from "node:assert/strict";
import { FileShapeError, pathKindSync, readRegularFileSync } from "./read_file.ts";

Deno.test("readRegularFileSync reads a regular file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.env`, "A=1\n");
    assert.equal(readRegularFileSync(`${dir}/a.env`), "A=1\n");
    assert.equal(pathKindSync(`${dir}/a.env`), "file");
    assert.equal(pathKindSync(dir), "directory");
    assert.equal(pathKindSync(`${dir}/none`), "missing");
    assert.equal(pathKindSync(`${dir}/a.env/x`), "missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRegularFileSync refuses a directory, a device, a FIFO and a file above the cap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => readRegularFileSync(dir), FileShapeError);
    assert.throws(() => readRegularFileSync("/dev/zero"), /not a regular file/);
    const fifo = `${dir}/fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(made.code, 0);
    // Opening a FIFO for reading blocks until a writer comes: it must be refused before.
    assert.throws(() => readRegularFileSync(fifo), /not a regular file/);
    assert.equal(pathKindSync(fifo), "other");
    await Deno.writeTextFile(`${dir}/big`, "x".repeat(2000));
    assert.throws(() => readRegularFileSync(`${dir}/big`, 1000), /larger than 1000 bytes/);
    assert.equal(readRegularFileSync(`${dir}/big`, 2000).length, 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
