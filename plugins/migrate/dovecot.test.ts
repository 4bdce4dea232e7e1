// kotakpos migrate from Debian's Dovecot (started here on loopback): folders with
// hierarchy, special-use roles, modified UTF-7 names and subscriptions; flags, keywords,
// INTERNALDATE, a 20 MB message; compared both sides message by message. Killed half-way
// and run again: nothing missing, nothing twice; new mail on the source: only it is copied.
// And mbsync (Debian's isync) makes a Maildir from the same account, which import reads.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { withDovecot } from "../../scripts/bench/lib/dovecot.ts";
import { openDb } from "../../core/db/open.ts";
import { cli, dumpAccount, makeDataDir, type DataDir, type DumpedMessage } from "./test-helpers.ts";

const HAVE = Boolean(Bun.which("dovecot") || Bun.which("/usr/sbin/dovecot")) && Boolean(Bun.which("mbsync"));
const USER = "olduser";
const PASS = "old-pw";
const INBOX_COUNT = 1200;

let port = 0;
let release: () => void = () => {};
let running: Promise<unknown> = Promise.resolve();
let data: DataDir;
let tmp = "";

const small = (i: number) =>
  `From: friend${i % 7}@old.test\r\nTo: ${USER}@old.test\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@old.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${"line of text\r\n".repeat(40)}`;
const FLAGS = ["", "S", "RS", "FS", "D", "T"];

beforeAll(async () => {
  if (!HAVE) return;
  tmp = mkdtempSync(join(tmpdir(), "kotakpos-migrate-dovecot-"));
  data = await makeDataDir(["alice@example.test", "carol@example.test"]);
  let ready: (p: number) => void = () => {};
  const started = new Promise<number>((r) => (ready = r));
  running = withDovecot(
    {
      protocol: "imap",
      users: [USER],
      password: PASS,
      messages: () => Array.from({ length: INBOX_COUNT }, (_, i) => [`${1700000000 + i}.M${i}P1.old:2,${FLAGS[i % FLAGS.length]}`, small(i)] as [string, string]),
      extraConf: `namespace inbox {
  inbox = yes
  separator = .
  mailbox "Sent Items" {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
`,
    },
    (p) => {
      ready(p);
      return new Promise<void>((r) => (release = r));
    },
  );
  const r = await Promise.race([started, running]);
  if (typeof r !== "number") throw new Error(`dovecot: ${JSON.stringify(r)}`);
  port = r;
  await fillSource();
}, 60_000);

afterAll(async () => {
  release();
  await running;
  data?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function source<T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = new ImapFlow({ host: "127.0.0.1", port, secure: false, auth: { user: USER, pass: PASS }, logger: false });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

const BIG = (() => {
  const line = "x".repeat(76) + "\r\n";
  return `From: big@old.test\r\nSubject: twenty megabytes\r\nMessage-ID: <big@old.test>\r\nContent-Type: text/plain\r\n\r\n${line.repeat(Math.ceil((20 * 1024 * 1024) / line.length))}`;
})();

async function fillSource(): Promise<void> {
  await source(async (c) => {
    for (const name of ["Sent Items", "Trash", "Work", "Work.Projects", "日本語", "Ünïcode & more"]) await c.mailboxCreate(name);
    // (imapflow subscribes what it creates.)
    await c.mailboxUnsubscribe("Ünïcode & more");
    await c.append("Sent Items", small(9001), ["\\Seen"], new Date("2023-05-01T08:00:00Z"));
    await c.append("Trash", small(9002), ["\\Seen", "\\Deleted"], new Date("2023-05-02T08:00:00Z"));
    await c.append("Work", small(9003), ["$Label1", "project-x"], new Date("2023-05-03T08:00:00Z"));
    await c.append("Work", small(9004), ["\\Flagged", "$Forwarded"], new Date("2023-05-04T08:00:00Z"));
    await c.append("Work.Projects", small(9005), ["\\Answered", "\\Seen"], new Date("2023-05-05T08:00:00Z"));
    await c.append("日本語", small(9006), [], new Date("2023-05-06T08:00:00Z"));
    await c.append("Ünïcode & more", small(9007), ["\\Draft"], new Date("2023-05-07T08:00:00Z"));
    await c.append("INBOX", BIG, ["\\Seen"], new Date("2023-06-01T12:34:56Z"));
    // The same message in two folders (one blob on our side).
    await c.append("Work.Projects", small(9003), ["$Label1"], new Date("2023-05-03T08:00:00Z"));
  });
}

/** Source folder (path, delimiter ".") → our mailbox name. */
const TARGET: Record<string, string> = { INBOX: "INBOX", "Sent Items": "Sent", Trash: "Trash", Work: "Work", "Work.Projects": "Work/Projects", 日本語: "日本語", "Ünïcode & more": "Ünïcode & more" };

async function sourceDump(): Promise<Record<string, DumpedMessage[]>> {
  return source(async (c) => {
    const out: Record<string, DumpedMessage[]> = {};
    for (const path of Object.keys(TARGET)) {
      await c.mailboxOpen(path, { readOnly: true });
      const msgs: DumpedMessage[] = [];
      for await (const m of c.fetch("1:*", { uid: true, flags: true, internalDate: true, source: true }, { uid: true }))
        msgs.push({ raw: m.source!.toString("latin1"), flags: [...m.flags!].filter((f) => f !== "\\Recent").sort(), internalDate: (m.internalDate as Date).getTime() });
      out[TARGET[path]!] = msgs;
    }
    return out;
  });
}

async function targetCount(dataDir: string): Promise<number> {
  const db = await openDb({ url: `file:${join(dataDir, "kotakpos.db")}` });
  try {
    const r = await db.client.execute("SELECT count(*) AS n FROM messages");
    return Number(r.rows[0]!.n);
  } finally {
    await db.close();
  }
}

const url = () => `imap://${USER}@127.0.0.1:${port}`;

test.skipIf(!HAVE)(
  "migrate: killed half-way, run again: every folder, message, flag and date; nothing twice",
  async () => {
    const total = INBOX_COUNT + 9;
    // A separate process, killed with SIGKILL once the first batch is committed.
    const child = Bun.spawn(["bun", join(import.meta.dir, "../../main.ts"), "migrate", "alice@example.test", url(), "--password-stdin", "--data", data.dir], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    child.stdin.write(PASS + "\n");
    child.stdin.end();
    let atKill = 0;
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      await Bun.sleep(10);
      atKill = await targetCount(data.dir).catch(() => 0);
      if (atKill > 0) break;
    }
    child.kill("SIGKILL");
    await child.exited;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);

    const second = await cli(data.dir, ["migrate", "alice@example.test", url(), "--password-stdin"], PASS + "\n");
    expect(second.err).not.toContain("kotakpos:");
    expect(second.code).toBe(0);
    const m = /found (\d+) = imported (\d+) \+ skipped (\d+) \+ already there (\d+)/.exec(second.out)!;
    expect(Number(m[1])).toBe(total);
    expect(Number(m[2]) + Number(m[4])).toBe(total);
    expect(Number(m[4])).toBeGreaterThanOrEqual(atKill);

    const want = await sourceDump();
    const got = await dumpAccount(data.dir, "alice@example.test", { skipEmpty: true });
    for (const [name, msgs] of Object.entries(want)) {
      expect(got[name]?.length).toBe(msgs.length);
      expect(got[name]).toEqual(msgs);
    }
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    expect(got.INBOX!.some((x) => x.raw.length > 20 * 1024 * 1024)).toBe(true);

    // Roles and subscriptions came along.
    const { withStore } = await import("./test-helpers.ts");
    const boxes = await withStore(data.dir, async (s) => s.listMailboxes((await s.getAccount("alice@example.test"))!.id));
    const role = (n: string) => boxes.find((b) => b.name === n)?.specialUse;
    expect([role("Sent"), role("Trash")]).toEqual(["\\Sent", "\\Trash"]);
    const subscribed = (n: string) => boxes.find((b) => b.name === n)?.subscribed;
    expect([subscribed("Work"), subscribed("Work/Projects"), subscribed("日本語"), subscribed("Ünïcode & more")]).toEqual([true, true, true, false]);

    // New mail on the source: the next run copies only that.
    await source(async (c) => {
      await c.append("INBOX", small(9100), [], new Date("2024-02-01T00:00:00Z"));
      await c.append("Work.Projects", small(9101), ["\\Seen"], new Date("2024-02-02T00:00:00Z"));
    });
    const third = await cli(data.dir, ["migrate", "alice@example.test", url(), "--password-stdin"], PASS + "\n");
    expect(third.out).toContain(`found ${total + 2} = imported 2 + skipped 0 + already there ${total}`);
    const after = await dumpAccount(data.dir, "alice@example.test", { skipEmpty: true });
    expect(after).toEqual(await sourceDump());
  },
  180_000,
);

test.skipIf(!HAVE)("migrate: a wrong password or an unreachable server is one line, exit 1", async () => {
  const bad = await cli(data.dir, ["migrate", "carol@example.test", url(), "--password-stdin"], "wrong\n");
  expect(bad.code).toBe(1);
  expect(bad.err).toContain("login refused");
  const closed = await cli(data.dir, ["migrate", "carol@example.test", "imap://x@127.0.0.1:1", "--password-stdin"], "pw\n");
  expect(closed.code).toBe(1);
  expect(closed.err).toMatch(/^kotakpos: 127\.0\.0\.1:1: /);
});

test.skipIf(!HAVE)(
  "a Maildir made by mbsync from the Dovecot account imports with the same bytes and flags",
  async () => {
    const dir = join(tmp, "mbsync");
    const conf = join(tmp, "mbsyncrc");
    writeFileSync(
      conf,
      `IMAPAccount old
Host 127.0.0.1
Port ${port}
User ${USER}
Pass ${PASS}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account old

MaildirStore local
Inbox ${dir}
SubFolders Maildir++

Channel ch
Far :remote:
Near :local:
Patterns *
Create Near
SyncState *
`,
    );
    // Maildir++: the inbox is the root, folders are ".Name" directories inside it.
    const p = Bun.spawn(["mbsync", "-c", conf, "-a"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: tmp } });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`mbsync exited ${code}\n${out}\n${err}`);
    const r = await cli(data.dir, ["import", "carol@example.test", dir]);
    expect(r.code).toBe(0);
    const want = await sourceDump();
    const got = await dumpAccount(data.dir, "carol@example.test", { skipEmpty: true });
    // mbsync keeps the system flags (not keywords) and not INTERNALDATE: compare bytes and those.
    const strip = (d: Record<string, DumpedMessage[]>) =>
      Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.map((x) => ({ raw: x.raw, flags: x.flags.filter((f) => f.startsWith("\\")) })).sort((a, b) => (a.raw < b.raw ? -1 : 1))]));
    const byRole: Record<string, string> = { "Sent Items": "Sent" };
    const gotNamed = Object.fromEntries(Object.entries(strip(got)).map(([k, v]) => [byRole[k] ?? k, v]));
    expect(gotNamed).toEqual(strip(want));
    expect(r.out).toMatch(/found \d+ = imported \d+ \+ skipped 0 \+ already there 0/);
  },
  120_000,
);
