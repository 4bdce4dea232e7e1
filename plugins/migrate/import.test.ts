// kotakpos import / export against files others wrote: mbox from Python's mailbox module,
// Google Takeout and Thunderbird style mboxes, Maildir++ with Dovecot keywords, .eml
// folders; export and re-import is identical; bad input gives the report, not a crash.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli, dumpAccount, makeDataDir, python, withStore, type DataDir } from "./test-helpers.ts";

let data: DataDir;
let files: string;
beforeEach(async () => {
  data = await makeDataDir(["alice@example.test", "bob@example.test"]);
  files = mkdtempSync(join(tmpdir(), "kotakpos-migrate-files-"));
});
afterEach(() => {
  data.cleanup();
  rmSync(files, { recursive: true, force: true });
});

const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

/** Python writes the mbox and prints, per message, its own bytes (before mbox quoting and
 *  the Status fields), its flags and From_ date. */
const MAKE_MBOX = `
import mailbox, sys, json, time, base64
from email.message import EmailMessage
box = mailbox.mbox(sys.argv[1])
out = []
specs = [
  ("plain", "", 1700000000, "hello\\n"),
  ("seen and flagged", "RF", 1700000100, "From the start of the line, unquoted on import\\nbye\\n"),
  ("answered", "RA", 1700000200, "caf\\u00e9 \\u2014 na\\u00efve\\n"),
  ("old unread", "O", 1700000300, "x\\n" * 50),
]
for subject, flags, ts, body in specs:
    m = EmailMessage()
    m["From"] = "sender@example.org"
    m["To"] = "alice@example.test"
    m["Subject"] = subject
    m["Message-ID"] = "<%d@example.org>" % ts
    m.set_content(body)
    own = m.as_bytes()
    mm = mailbox.mboxMessage(m)
    mm.set_from("MAILER-DAEMON", time.gmtime(ts))
    if flags: mm.set_flags(flags)
    box.add(mm)
    out.append({"raw": base64.b64encode(own).decode(), "flags": flags, "ts": ts})
box.close()
print(json.dumps(out))
`;

test("an mbox made by Python's mailbox module: bytes, flags, From_ dates, From unquoting", async () => {
  const path = join(files, "python.mbox");
  const made = JSON.parse(python(MAKE_MBOX, [path])) as { raw: string; flags: string; ts: number }[];
  const r = await cli(data.dir, ["import", "alice@example.test", path]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("found 4 = imported 4 + skipped 0 + already there 0");
  const inbox = (await dumpAccount(data.dir, "alice@example.test")).INBOX!;
  const flagsOf = (f: string) => [...(f.includes("R") ? ["\\Seen"] : []), ...(f.includes("F") ? ["\\Flagged"] : []), ...(f.includes("A") ? ["\\Answered"] : [])].sort();
  expect(inbox.map((m) => ({ ...m, raw: Buffer.from(m.raw, "latin1").toString("utf8") }))).toEqual(
    made.map((m) => ({ raw: crlf(Buffer.from(m.raw, "base64").toString("utf8")), flags: flagsOf(m.flags), internalDate: m.ts * 1000 })),
  );
  expect(inbox[1]!.raw).toContain("\r\nFrom the start of the line");
  // Again: everything is already there.
  const again = await cli(data.dir, ["import", "alice@example.test", path]);
  expect(again.out).toContain("found 4 = imported 0 + skipped 0 + already there 4");
});

test("--mailbox puts the messages into that mailbox (created)", async () => {
  const path = join(files, "python.mbox");
  python(MAKE_MBOX, [path]);
  expect((await cli(data.dir, ["import", "alice@example.test", path, "--mailbox", "Old/2023"])).code).toBe(0);
  const d = await dumpAccount(data.dir, "alice@example.test");
  expect(d["Old/2023"]!.length).toBe(4);
  expect(d.INBOX!.length).toBe(0);
});

const gmailMsg = (labels: string, n: number) =>
  `From 1789${n}@xxx Mon Jan 01 10:00:0${n} +0000 2024\nX-GM-THRID: 1789${n}\nX-Gmail-Labels: ${labels}\nFrom: a@gmail.test\nSubject: g${n}\nMessage-ID: <g${n}@gmail.test>\n\nbody ${n}\n\n`;

test("a Google Takeout mbox: labels become folders, Starred and Unread become flags, no label: Archive", async () => {
  const path = join(files, "All mail Including Spam and Trash.mbox");
  writeFileSync(
    path,
    gmailMsg("Inbox,Starred,Work/Project", 1) + gmailMsg("Sent", 2) + gmailMsg("Unread,Category Updates,Archived", 3) + gmailMsg("Important,Opened", 4) + gmailMsg('"Clients, Big",Spam', 5),
  );
  const r = await cli(data.dir, ["import", "alice@example.test", path]);
  expect(r.out).toContain("found 5 = imported 5 + skipped 0 + already there 0");
  const d = await dumpAccount(data.dir, "alice@example.test", { skipEmpty: true });
  const subjects = (name: string) => d[name]?.map((m) => [/Subject: (\S+)/.exec(m.raw)![1], m.flags.join(" ")]);
  expect(subjects("INBOX")).toEqual([["g1", "\\Flagged \\Seen"]]);
  expect(subjects("Work/Project")).toEqual([["g1", "\\Flagged \\Seen"]]);
  expect(subjects("Sent")).toEqual([["g2", "\\Seen"]]);
  expect(subjects("Archive")).toEqual([
    ["g3", ""],
    ["g4", "\\Seen"],
  ]);
  expect(subjects("Clients, Big")).toEqual([["g5", "\\Seen"]]);
  expect(subjects("Junk")).toEqual([["g5", "\\Seen"]]);
  expect(d.INBOX![0]!.internalDate).toBe(Date.UTC(2024, 0, 1, 10, 0, 1));
  // The label header stays in the message; one blob serves both folders of g1.
  expect(d.INBOX![0]!.raw).toContain("X-Gmail-Labels: Inbox,Starred,Work/Project\r\n");
});

test("a Thunderbird mbox: X-Mozilla-Status flags; messages deleted but not compacted are skipped with the reason", async () => {
  const path = join(files, "Inbox");
  const tb = (status: string, n: number) =>
    `From - Mon Jan 01 10:00:0${n} 2024\nX-Mozilla-Status: ${status}\nX-Mozilla-Status2: 00000000\nX-Mozilla-Keys: $label1\nFrom: t@b.test\nSubject: t${n}\n\nbody\n\n`;
  writeFileSync(path, tb("0001", 1) + tb("0008", 2) + tb("0005", 3));
  const r = await cli(data.dir, ["import", "alice@example.test", path]);
  expect(r.out).toContain("found 3 = imported 2 + skipped 1 + already there 0");
  expect(r.out).toContain("Inbox message 2 (line 10): marked deleted by Thunderbird");
  const inbox = (await dumpAccount(data.dir, "alice@example.test")).INBOX!;
  expect(inbox.map((m) => m.flags)).toEqual([
    ["$label1", "\\Seen"],
    ["$label1", "\\Flagged", "\\Seen"],
  ]);
});

/** A Maildir++ tree as Dovecot writes it. */
function makeMaildir(root: string): void {
  const box = (dir: string, msgs: [string, string, number?][], keywords?: string) => {
    for (const d of ["cur", "new", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
    for (const [name, body, mtime] of msgs) {
      const f = join(dir, name);
      writeFileSync(f, body);
      if (mtime) utimesSync(f, mtime, mtime);
    }
    if (keywords) writeFileSync(join(dir, "dovecot-keywords"), keywords);
  };
  const m = (s: string) => `From: x@y.test\nSubject: ${s}\nMessage-ID: <${s.replace(/\W/g, "")}@y>\n\nbody of ${s}\n`;
  box(
    root,
    [
      ["cur/1700000001.M1P1.host,S=50:2,S", m("seen"), 1700000001],
      ["cur/1700000002.M2P1.host,S=50:2,FRab", m("flagged answered keywords"), 1700000002],
      ["new/1700000003.M3P1.host", m("new"), 1700000003],
      ["cur/1700000004.M4P1.host:2,S", "\x89PNG\r\n\x1a\n\0\0\0binary", 1700000004],
    ],
    "0 $Forwarded\n1 project-x\n",
  );
  box(join(root, ".Work.Project"), [["cur/1700000010.M1P2.host:2,S", m("work"), 1700000010]]);
  box(join(root, ".&ZeVnLIqe-"), [["cur/1700000020.M1P3.host:2,", m("nihongo"), 1700000020]]);
  box(join(root, ".Sent"), [["cur/1700000030.M1P4.host:2,S", m("sent one"), 1700000030]]);
  writeFileSync(join(root, "subscriptions"), "V\t2\n\nWork\tProject\nSent\n");
}

test("a Maildir++: flags, Dovecot keywords, subfolders, modified UTF-7 names, mtime dates, subscriptions; a non-message file is skipped", async () => {
  const root = join(files, "Maildir");
  makeMaildir(root);
  // A folder name that is not UTF-8 (bytes 0xff 0xfe).
  const bad = Buffer.concat([Buffer.from(root + "/."), Buffer.from([0xff, 0xfe]), Buffer.from("x")]);
  for (const d of ["cur", "new", "tmp"]) mkdirSync(Buffer.concat([bad, Buffer.from("/" + d)]), { recursive: true });
  writeFileSync(Buffer.concat([bad, Buffer.from("/cur/1700000040.M1.host:2,S")]), "From: a@b\nSubject: badname\n\nx\n");
  const r = await cli(data.dir, ["import", "alice@example.test", root]);
  expect(r.err).not.toContain("kotakpos:");
  expect(r.code).toBe(0);
  expect(r.out).toContain("found 8 = imported 7 + skipped 1 + already there 0");
  expect(r.out).toMatch(/INBOX: cur\/1700000004\.M4P1\.host:2,S: not a message/);
  expect(r.out).toContain("note: folder name is not valid UTF-8");
  const d = await dumpAccount(data.dir, "alice@example.test", { skipEmpty: true });
  const subj = (n: string) => d[n]!.map((x) => [/Subject: (.*)\r/.exec(x.raw)![1], x.flags.join(" "), x.internalDate / 1000]);
  expect(subj("INBOX")).toEqual([
    ["new", "", 1700000003],
    ["seen", "\\Seen", 1700000001],
    ["flagged answered keywords", "$Forwarded \\Answered \\Flagged project-x", 1700000002],
  ]);
  expect(subj("Work/Project")).toEqual([["work", "\\Seen", 1700000010]]);
  expect(subj("日本語")).toEqual([["nihongo", "", 1700000020]]);
  expect(subj("Sent")).toEqual([["sent one", "\\Seen", 1700000030]]);
  expect(Object.keys(d).some((n) => n.includes("\ufffd"))).toBe(true);
  expect(d.INBOX![1]!.raw).toBe("From: x@y.test\r\nSubject: seen\r\nMessage-ID: <seen@y>\r\n\r\nbody of seen\r\n");
  const subscribed = await withStore(data.dir, async (s) => (await s.listMailboxes((await s.getAccount("alice@example.test"))!.id)).filter((m) => !m.subscribed).map((m) => m.name));
  // Not in Dovecot's subscriptions file: not subscribed.
  expect(subscribed.filter((n) => !n.includes("\ufffd"))).toEqual(["日本語"]);
});

test("a folder of .eml files (subfolders become mailboxes); the Received date is INTERNALDATE", async () => {
  mkdirSync(join(files, "emls", "Projects"), { recursive: true });
  writeFileSync(join(files, "emls", "a.eml"), "Received: from x by y; Tue, 14 Nov 2023 22:13:20 +0000\nFrom: a@b.test\nSubject: a\n\nA\n");
  writeFileSync(join(files, "emls", "Projects", "b.eml"), "From: a@b.test\nDate: Wed, 15 Nov 2023 10:00:00 +0100\nSubject: b\n\nB\n");
  writeFileSync(join(files, "emls", "notes.txt"), "not an eml: ignored");
  const r = await cli(data.dir, ["import", "alice@example.test", join(files, "emls")]);
  expect(r.out).toContain("found 2 = imported 2 + skipped 0 + already there 0");
  const d = await dumpAccount(data.dir, "alice@example.test", { skipEmpty: true });
  expect(d.INBOX!.map((m) => m.internalDate)).toEqual([Date.UTC(2023, 10, 14, 22, 13, 20)]);
  expect(d.Projects!.map((m) => m.internalDate)).toEqual([Date.UTC(2023, 10, 15, 9, 0, 0)]);
});

for (const format of ["maildir", "mbox"] as const) {
  test(`export --format ${format} and import into another account: identical folder by folder (bytes, flags, dates)`, async () => {
    const root = join(files, "Maildir");
    makeMaildir(root);
    python(MAKE_MBOX, [join(files, "python.mbox")]);
    expect((await cli(data.dir, ["import", "alice@example.test", root])).code).toBe(0);
    expect((await cli(data.dir, ["import", "alice@example.test", join(files, "python.mbox"), "--mailbox", "Python & co"])).code).toBe(0);
    const dest = join(files, `export-${format}`);
    const ex = await cli(data.dir, ["export", "alice@example.test", dest, "--format", format]);
    expect(ex.code).toBe(0);
    expect(ex.out).toContain("found 10 = imported 10");
    const im = await cli(data.dir, ["import", "bob@example.test", dest]);
    expect(im.code).toBe(0);
    expect(im.out).toContain("found 10 = imported 10 + skipped 0 + already there 0");
    const a = await dumpAccount(data.dir, "alice@example.test");
    const b = await dumpAccount(data.dir, "bob@example.test");
    expect(b).toEqual(a);
    // An existing, non-empty destination is refused.
    const again = await cli(data.dir, ["export", "alice@example.test", dest, "--format", format]);
    expect(again.code).toBe(1);
    expect(again.err).toContain("exists and is not empty");
  });
}

test("malformed input: truncated mbox, From lines in bodies, leading junk — the report, not a crash", async () => {
  const path = join(files, "broken.mbox");
  writeFileSync(
    path,
    "this is not mail\n\n" +
      "From a@b Mon Jan  1 10:00:00 2024\nFrom: a@b\nSubject: one\n\nFrom me to you: an unquoted body line without a date\n\n" +
      "From a@b Mon Jan  1 10:00:01 2024\nFrom: a@b\nSubject: two\n\nbody\n\nFrom someone Mon Jan  1 10:00:02 2024\nstill the body of two, after an unquoted From_ line\n\n" +
      "From a@b Mon Jan  1 10:00:03 2024\nFrom: a@b\nSubject: three, truncated\n\nthe file ends in the mid",
  );
  const r = await cli(data.dir, ["import", "alice@example.test", path]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("found 5 = imported 3 + skipped 2 + already there 0");
  expect(r.out).toContain("broken.mbox lines 1-2: text before the first From line");
  expect(r.out).toContain("broken.mbox message 3 (line 15): not a message");
  const inbox = (await dumpAccount(data.dir, "alice@example.test")).INBOX!;
  expect(inbox.map((m) => /Subject: (.*)\r/.exec(m.raw)![1])).toEqual(["one", "two", "three, truncated"]);
  expect(inbox[0]!.raw).toContain("\r\nFrom me to you: an unquoted body line");
  expect(inbox[2]!.raw.endsWith("the file ends in the mid")).toBe(true);
});

test("bad arguments: unknown account, missing path, wrong format — one line, no crash", async () => {
  const noAcct = await cli(data.dir, ["import", "nobody@example.test", files]);
  expect([noAcct.code, noAcct.err]).toEqual([1, "kotakpos: no account nobody@example.test\n"]);
  const noPath = await cli(data.dir, ["import", "alice@example.test", join(files, "missing")]);
  expect(noPath.code).toBe(1);
  expect(noPath.err).toContain("no such file or directory");
  const fmt = await cli(data.dir, ["export", "alice@example.test", join(files, "x"), "--format", "pst"]);
  expect([fmt.code, fmt.err]).toEqual([2, "kotakpos: --format must be maildir or mbox\n"]);
  const url = await cli(data.dir, ["migrate", "alice@example.test", "http://x", "--password-stdin"], "pw\n");
  expect(url.code).toBe(2);
});
