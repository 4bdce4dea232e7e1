// mbsync (Debian's isync) doing a full two-way sync between our server and a local
// Maildir: create, flag, delete on either side, sync again, compare both sides. (mbsync
// turns on COMPRESS=DEFLATE; each run with changes takes ~1 s because mbsync sleeps
// after recent Maildir changes.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestServer } from "../helpers/server.ts";
import { startImap, USERS } from "../helpers/imap.ts";

const MBSYNC = Bun.which("mbsync");
let srv: TestServer;
let dir = "";
beforeAll(async () => {
  srv = await startImap();
  dir = mkdtempSync(join(tmpdir(), "kotakpos-mbsync-"));
});
afterAll(async () => {
  await srv.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const mail = (subject: string) => `From: x@example.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n\r\nBody of ${subject}\r\n`;
const FLAG_LETTERS: Record<string, string> = { "\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T" };

async function mbsync(): Promise<void> {
  const conf = join(dir, "mbsyncrc");
  writeFileSync(
    conf,
    `IMAPAccount kp
Host 127.0.0.1
Port ${srv.port("imap")}
User ${USERS[0]!.address}
Pass ${USERS[0]!.password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account kp

MaildirStore local
Path ${dir}/mail/
Inbox ${dir}/mail/INBOX
SubFolders Verbatim

Channel ch
Far :remote:
Near :local:
Patterns INBOX Reports LocalOnly
Create Both
Expunge Both
SyncState *
`,
  );
  const p = Bun.spawn([MBSYNC!, "-c", conf, "-a"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: dir } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`mbsync exited ${code}\n${out}\n${err}`);
}

/** subject → sorted flag letters, for one local Maildir folder. */
function localState(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const sub of ["cur", "new"]) {
    const d = join(dir, "mail", folder, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const subject = /^Subject: (.*)$/m.exec(readFileSync(join(d, f), "utf8"))![1]!.trim();
      const flags = f.includes(":2,") ? f.slice(f.indexOf(":2,") + 3) : "";
      out[subject] = [...flags].sort().join("");
    }
  }
  return out;
}

async function serverState(folder: string): Promise<Record<string, string>> {
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[0]!.address))!;
  const mb = await store.getMailbox(acct.id, folder);
  if (!mb) return {};
  const out: Record<string, string> = {};
  for (const m of await store.messages(mb.id)) {
    out[m.subject] = m.flags
      .map((f) => FLAG_LETTERS[f] ?? "")
      .sort()
      .join("");
  }
  return out;
}

function localFile(folder: string, subject: string): string {
  for (const sub of ["cur", "new"]) {
    const d = join(dir, "mail", folder, sub);
    for (const f of existsSync(d) ? readdirSync(d) : []) if (new RegExp(`^Subject: ${subject}\\r?$`, "m").test(readFileSync(join(d, f), "utf8"))) return join(d, f);
  }
  throw new Error(`no local message ${subject}`);
}

test.skipIf(!MBSYNC)("two-way sync with a local Maildir", async () => {
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[0]!.address))!;
  const inbox = (await store.getMailbox(acct.id, "INBOX"))!;
  await store.append(inbox.id, new TextEncoder().encode(mail("server-1")));
  await store.append(inbox.id, new TextEncoder().encode(mail("server-2")), { flags: ["\\Seen"] });
  await store.append(inbox.id, new TextEncoder().encode(mail("server-3")));
  const reports = await store.createMailbox(acct.id, "Reports");
  await store.append(reports.id, new TextEncoder().encode(mail("report-1")), { flags: ["\\Flagged"] });
  // A local message and a local-only folder.
  for (const f of ["INBOX", "LocalOnly"]) for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, "mail", f, sub), { recursive: true });
  writeFileSync(join(dir, "mail", "INBOX", "cur", "1700000000.1.host:2,S"), mail("local-1"));
  writeFileSync(join(dir, "mail", "LocalOnly", "new", "1700000000.2.host"), mail("local-only-1"));

  await mbsync();
  expect(await serverState("INBOX")).toEqual({ "server-1": "", "server-2": "S", "server-3": "", "local-1": "S" });
  expect(localState("INBOX")).toEqual(await serverState("INBOX"));
  expect(localState("Reports")).toEqual({ "report-1": "F" });
  expect(await serverState("LocalOnly")).toEqual({ "local-only-1": "" });

  // Changes on both sides.
  const srvMsgs = await store.messages(inbox.id);
  const uidOf = (s: string) => srvMsgs.find((m) => m.subject === s)!.uid;
  await store.setFlags(inbox.id, [uidOf("server-1")], "add", ["\\Seen", "\\Answered"]);
  await store.remove(inbox.id, [uidOf("server-2")]);
  await store.append(inbox.id, new TextEncoder().encode(mail("server-4")));
  const f3 = localFile("INBOX", "server-3");
  renameSync(f3, f3.replace(/:2,.*$/, "") + ":2,FS");
  rmSync(localFile("INBOX", "local-1"));
  writeFileSync(join(dir, "mail", "INBOX", "new", "1700000001.3.host"), mail("local-2"));

  await mbsync();
  const expected = { "server-1": "RS", "server-3": "FS", "server-4": "", "local-2": "" };
  expect(await serverState("INBOX")).toEqual(expected);
  expect(localState("INBOX")).toEqual(expected);
  // A third run changes nothing.
  await mbsync();
  expect(localState("INBOX")).toEqual(expected);
  expect(await serverState("INBOX")).toEqual(expected);
  expect(await store.check()).toEqual([]);
});
