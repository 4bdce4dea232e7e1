// Pipelined RETRs: blobs read in batches off the event loop (BlobStore.readMany) and the
// output buffer refilled once the socket let go of it (Connection.writeReusable). Every
// answer must be what a lone RETR sends, whatever fails or overtakes in between.
import { describe, expect, test } from "bun:test";
import { startSession } from "./session.ts";
import { FakeConn, fakeStore, type FakeStore } from "./test-fakes.ts";

/** Messages of a few KiB: most clean, some with dot lines or bare LFs, some with a prefix. */
function messages(n: number): { raws: string[]; prefixes: string[] } {
  const raws: string[] = [];
  const prefixes: string[] = [];
  for (let i = 1; i <= n; i++) {
    const body = `line ${i} of a message that is long enough to matter\r\n`.repeat(40 + (i % 7) * 20);
    if (i % 9 === 0) raws.push(`Subject: dots ${i}\r\n\r\n.leading dot\r\n${body}`);
    else if (i % 11 === 0) raws.push(`Subject: bare ${i}\n\n${body.replace(/\r\n/g, "\n")}`);
    else raws.push(`Subject: clean ${i}\r\n\r\n${body}`);
    prefixes.push(i % 3 === 0 ? `Received: from x.test by mx.example.test id ${i}\r\n` : "");
  }
  return { raws, prefixes };
}

/** What RETR sends for a stored prefix and blob (RFC 1939 §3: CRLF, dots stuffed). */
function answer(prefix: string, raw: string): string {
  const crlf = (prefix + raw).replace(/\r\n|\r|\n/g, "\r\n");
  return `+OK ${crlf.length} octets\r\n${crlf.replace(/^\./gm, "..")}${crlf.endsWith("\r\n") ? "" : "\r\n"}.\r\n`;
}

/** A connection that, like a socket with a full send buffer, keeps every third buffer
 *  written (and says so); the kept ones must never change afterwards. */
class HoldingConn extends FakeConn {
  held: { buf: Uint8Array; copy: Buffer }[] = [];
  writes = 0;
  /** The buffers behind the writes let go of. */
  freed = new Set<ArrayBufferLike>();
  writeReusable(d: Uint8Array): boolean {
    this.write(d);
    if (++this.writes % 3 !== 0) {
      this.freed.add(d.buffer);
      return true;
    }
    this.held.push({ buf: d, copy: Buffer.from(d) });
    return false;
  }
}

async function session(fs: FakeStore, conn: FakeConn): Promise<FakeConn> {
  startSession(conn, fs.deps);
  await conn.take();
  await conn.cmd("USER alice@example.test");
  expect(await conn.cmd("PASS secret")).toStartWith("+OK Logged in");
  conn.out = "";
  return conn;
}

async function until(c: FakeConn, done: (out: string) => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(c.out); i++) await Bun.sleep(1);
}

describe("pipelined RETRs", () => {
  const { raws, prefixes } = messages(60);
  const all = raws.map((r, i) => answer(prefixes[i]!, r)).join("");
  const retrAll = raws.map((_, i) => `RETR ${i + 1}\r\n`).join("");

  test("read in batches; each answer as a lone RETR's; the output buffer refilled only when let go of", async () => {
    const fs = fakeStore(raws, { prefixes });
    fs.batchReads = "on";
    const c = (await session(fs, new HoldingConn())) as HoldingConn;
    c.send(retrAll);
    await until(c, (o) => o.length >= all.length);
    expect(c.out).toBe(all);
    // Batches formed (at least BATCH_MIN blobs each), and few blobs were read one by one.
    expect(fs.batches.length).toBeGreaterThan(0);
    for (const n of fs.batches) expect(n).toBeGreaterThanOrEqual(8);
    expect(fs.batches.reduce((a, b) => a + b, 0)).toBeGreaterThan(30);
    // Buffers the connection kept were not written into again.
    expect(c.held.length).toBeGreaterThanOrEqual(2);
    for (const h of c.held) expect(Buffer.from(h.buf).equals(h.copy)).toBe(true);
    // … and those let go of were: fewer buffers than writes.
    expect(c.freed.size).toBeLessThan(c.writes - c.held.length);
    // A lone RETR (nothing queued behind it) is read at once, not batched.
    const before = fs.batches.length;
    expect(await c.cmd("RETR 2", true)).toBe(answer(prefixes[1]!, raws[1]!));
    expect(fs.batches.length).toBe(before);
  });

  test("a message too large for RETR in place is not read by a batch (it goes the general way)", async () => {
    const big = `Subject: big\r\n\r\n${"a clean line of text\r\n".repeat(5000)}`; // ~110 KB
    const mix = [raws[0]!, raws[1]!, big, ...raws.slice(3, 12)];
    const fs = fakeStore(mix);
    fs.batchReads = "on";
    const asked: number[] = [];
    const readMany = fs.deps.store.blobs.readMany!;
    fs.deps.store.blobs = { ...fs.deps.store.blobs, readMany: (b, into) => (asked.push(...b.map((x) => x.size)), readMany(b, into)) };
    const c = await session(fs, new FakeConn());
    c.send(mix.map((_, i) => `RETR ${i + 1}\r\n`).join(""));
    const want = mix.map((r) => answer("", r)).join("");
    await until(c, (o) => o.length >= want.length);
    expect(c.out).toBe(want);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked).not.toContain(big.length);
  });

  test("batchReads off (several processes): every blob read inline, the same answers", async () => {
    const fs = fakeStore(raws, { prefixes });
    fs.batchReads = "on";
    fs.deps.batchReads = false;
    const c = await session(fs, new FakeConn());
    c.send(retrAll);
    await until(c, (o) => o.length >= all.length);
    expect(c.out).toBe(all);
    expect(fs.batches).toEqual([]);
  });

  test("a blob missing from the batch, or a batch that fails, is read the general way", async () => {
    for (const mode of [new Set([4, 5, 30]), "fail"] as const) {
      const fs = fakeStore(raws, { prefixes });
      fs.batchReads = mode;
      const c = await session(fs, new FakeConn());
      c.send(retrAll);
      await until(c, (o) => o.length >= all.length);
      expect(c.out).toBe(all);
    }
  });

  test("DELE between pipelined RETRs, and an expunge by another session, are honoured", async () => {
    const fs = fakeStore(raws, { prefixes });
    fs.batchReads = "on";
    const c = await session(fs, new FakeConn());
    fs.emit({ accountId: 1, mailboxId: 1, kind: "expunge", uids: [7], modseq: 9, origin: "imap-c9" });
    c.send("RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\nDELE 5\r\nRETR 5\r\nRETR 6\r\nRETR 7\r\nRETR 8\r\nRETR 9\r\nRETR 10\r\nNOOP\r\n");
    await until(c, (o) => o.endsWith("+OK\r\n"));
    const a = (i: number) => answer(prefixes[i - 1]!, raws[i - 1]!);
    expect(c.out).toBe(`${a(1)}${a(2)}${a(3)}${a(4)}+OK message 5 deleted\r\n-ERR Message 5 already deleted\r\n${a(6)}-ERR Message 7 was removed by another session\r\n${a(8)}${a(9)}${a(10)}+OK\r\n`);
  });

  test("the connection closing while a batch is read: nothing more is written", async () => {
    const fs = fakeStore(raws, { prefixes });
    fs.batchReads = "on";
    const c = await session(fs, new FakeConn());
    c.send(retrAll);
    c.close();
    await Bun.sleep(20);
    expect(c.out).toBe("");
  });
});
