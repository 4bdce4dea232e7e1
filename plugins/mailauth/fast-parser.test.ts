// The replacements in fast-parser.ts must hand mailauth's parser exactly what the originals
// did: same header bytes, same body chunks, for every chunking of every kind of input.
import { expect, test } from "bun:test";
import { MessageParser } from "mailauth/lib/dkim/message-parser.js";
import "./fast-parser.ts";

type Proto = Record<string, unknown>;
const proto = (MessageParser as unknown as { prototype: Proto }).prototype;
const fast = { processChunk: proto.processChunk, ensureLinebreaks: proto.ensureLinebreaks };

/** The originals, from a fresh copy of the module (the cache holds the patched one). */
async function originals(): Promise<typeof fast> {
  const path = require.resolve("mailauth/lib/dkim/message-parser.js");
  const saved = require.cache[path];
  delete require.cache[path];
  try {
    const { MessageParser: Fresh } = require(path) as { MessageParser: { prototype: Proto } };
    return { processChunk: Fresh.prototype.processChunk, ensureLinebreaks: Fresh.prototype.ensureLinebreaks };
  } finally {
    if (saved) require.cache[path] = saved;
  }
}

/** Runs a parser with the given methods over the chunks; records what it hands on. */
async function run(methods: typeof fast, chunks: Buffer[]): Promise<{ headers: string | null; body: string; lastByte: unknown; headerBytes: number }> {
  const seen = { headers: null as string | null, body: "" };
  class Probe extends (MessageParser as unknown as new () => object) {
    async messageHeaders(h: { original?: Buffer }) {
      seen.headers = Buffer.isBuffer(h?.original) ? h.original.toString("latin1") : JSON.stringify(h);
    }
    async nextChunk(c: Buffer) {
      seen.body += `[${c.toString("latin1")}]`;
    }
  }
  const p = new Probe() as unknown as Proto & { writeAsync(c: Buffer): Promise<void>; finish(): Promise<void>; lastByte: unknown; headerBytes: number };
  Object.assign(p, methods);
  for (const c of chunks) await p.writeAsync(c);
  await p.finish();
  return { ...seen, lastByte: p.lastByte, headerBytes: p.headerBytes };
}

const inputs = [
  "From: a@b.test\r\nTo: c@d.test\r\nSubject: hi\r\n\r\nbody line\r\nsecond\r\n",
  "From: a@b.test\nTo: c@d.test\n\nbare LF body\nmore\n",
  "\r\nno header at all\r\n",
  "\nbody only\n",
  "From: a@b.test\r\n folded\r\n\tcontinued\r\n\r\n",
  "From: a@b.test\r\nno body and no blank line\r\n",
  "Subject: mixed\r\nX: y\n\r\nbody\r\nwith bare\nLF and\r\rCRs\r\n",
  "X: \r\n\r\n\r\n\r\n",
  "",
  "\r",
  "\r\n",
];

test("the fast header and line-break scans hand on exactly what mailauth's own do, for every chunking", async () => {
  const orig = await originals();
  expect(orig.processChunk).not.toBe(fast.processChunk);
  expect(orig.ensureLinebreaks).not.toBe(fast.ensureLinebreaks);
  let cases = 0;
  for (const text of inputs) {
    const buf = Buffer.from(text, "latin1");
    const chunkings: Buffer[][] = [[buf]];
    for (let size = 1; size <= 5; size++) {
      const cs: Buffer[] = [];
      for (let i = 0; i < buf.length; i += size) cs.push(buf.subarray(i, i + size));
      chunkings.push(cs);
    }
    for (const cut of [...Array(buf.length).keys()]) chunkings.push([buf.subarray(0, cut), buf.subarray(cut)]);
    for (const chunks of chunkings) {
      expect(await run(fast, chunks)).toEqual(await run(orig, chunks));
      cases++;
    }
  }
  expect(cases).toBeGreaterThan(200);
});
