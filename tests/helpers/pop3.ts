// Shared pieces of the POP3 e2e tests: the poplib driver and mail delivery into an INBOX.
import { join } from "node:path";
import type { TestServer } from "./server.ts";

export type PopResult = { ok: unknown } | { err: string } | { exc: string };
export type PopOp = (string | number)[];

const DRIVER = join(import.meta.dir, "poplib_driver.py");

/** Run operations through Python's poplib against the server; one result per operation. */
export async function poplib(server: TestServer, ops: PopOp[]): Promise<PopResult[]> {
  const proc = Bun.spawn(["python3", DRIVER, "127.0.0.1", String(server.port("pop3")), String(server.port("pop3s")), JSON.stringify(ops)], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`poplib driver exited ${code}: ${err}`);
  return JSON.parse(out) as PopResult[];
}

/** The poplib operations that open a plain connection and log in with USER/PASS. */
export function popLogin(user: string, password: string): PopOp[] {
  return [
    ["open", "plain"],
    ["user", user],
    ["pass_", password],
  ];
}

/** Append a message to the INBOX of `address` through the store; returns its UID.
 *  `prefix`: header lines stored apart from the blob, as SMTP delivery adds them. */
export async function deliver(server: TestServer, address: string, raw: string | Uint8Array, prefix?: string[]): Promise<number> {
  const store = server.core.store;
  const acct = await store.getAccount(address);
  if (!acct) throw new Error(`no account ${address}`);
  const inbox = await store.getMailbox(acct.id, "INBOX");
  if (!inbox) throw new Error(`no INBOX for ${address}`);
  const r = await store.append(inbox.id, typeof raw === "string" ? new TextEncoder().encode(raw) : raw, { prefix });
  return r.uid;
}

export async function inboxUids(server: TestServer, address: string): Promise<number[]> {
  const store = server.core.store;
  const acct = await store.getAccount(address);
  const inbox = await store.getMailbox(acct!.id, "INBOX");
  return (await store.uidList(inbox!.id)).map((m) => m.uid);
}

/** A message of about `size` bytes with CRLF lines (some starting with a dot). */
export function makeMessage(subject: string, size = 600): string {
  const head = `From: Bob <bob@sender.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}.${Math.random().toString(36).slice(2)}@sender.test>\r\nDate: Sun, 22 Nov 2026 03:00:00 +0000\r\n\r\n`;
  const lines = [".a line that starts with a dot", "..two dots", ".", "plain text line"];
  let body = "";
  for (let i = 0; body.length + head.length < size; i++) body += `${lines[i % lines.length]} ${i}\r\n`;
  return head + body;
}
