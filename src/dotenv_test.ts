import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "dotenv";
import { parseDotenv } from "./dotenv.ts";

const CORPUS = [
  "A=1\nB=two words\n",
  "export A=1\n  export   B = spaced  \n",
  "A='single # not a comment'\nB=\"double \\n newline\"\nC=`back`\n",
  'M="first\nsecond"\nN=after\n',
  "# comment\n\nA=1 # trailing\nB=#start\nC=\n",
  "A: colon style\nB:no-space\n",
  "A=1\r\nB=2\rC=3\n",
  "DUP=1\nDUP=2\n",
  "K.with-dots_1=v\n",
  'Q="unterminated\nR=next\n',
  'A="quote \\" inside"\n',
  "EMPTY=''\nE2=\"\"\n",
  "=novalue\nJUST TEXT\n",
  'X="a"b\n',
];

Deno.test("parseDotenv reads what dotenv 16 reads, on a corpus", () => {
  for (const text of CORPUS) assert.deepEqual(parseDotenv(text), parse(text), JSON.stringify(text));
});

Deno.test("parseDotenv agrees with dotenv 16 on random env files", () => {
  const piece = fc.constantFrom(
    "A",
    "B_1",
    "x.y",
    "-",
    "=",
    ":",
    " ",
    "\t",
    "\n",
    "\r\n",
    "#",
    "'",
    '"',
    "`",
    "\\",
    "\\n",
    "export ",
    "value",
    "é",
    "$HOME",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const text = pieces.join("");
      assert.deepEqual(parseDotenv(text), parse(text), JSON.stringify(text));
    }),
    { numRuns: 5000, seed: 16 },
  );
});
