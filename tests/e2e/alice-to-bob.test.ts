// The seeds' whole picture with real clients on both ends: Alice submits with swaks over
// STARTTLS on a.test's port 587; a.test signs with DKIM and delivers by MX to b.test;
// b.test checks SPF/DKIM/DMARC and files the message; Bob reads it with Python's imaplib
// over 993, answers with smtplib on 465, and Alice downloads the answer with poplib over 995.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startSide, startDnsFor, twoPorts, until, inbox, ALICE, BOB } from "../helpers/pair.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import type { TestServer } from "../helpers/server.ts";

let dns: TestDns;
let a: TestServer;
let b: TestServer;

async function publishRecords(server: TestServer, domain: string): Promise<void> {
  const token = readFileSync(join(server.dataDir, "admin.token"), "utf8").trim();
  const r = await fetch(`http://127.0.0.1:${server.port("http")}/api/admin/domains/${domain}/dns`, { headers: { authorization: `Bearer ${token}` } });
  const records = (await r.json()) as { name: string; type: string; data: string }[];
  for (const rec of records) {
    if (rec.type !== "TXT") continue;
    const cur = dns.zone.get(rec.name) ?? {};
    dns.set(rec.name, { ...cur, TXT: [...(cur.TXT ?? []), rec.data] });
  }
}

async function run(cmd: string[], input?: string): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(cmd, { stdin: input === undefined ? "ignore" : new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code: await p.exited, out: out + err };
}

beforeAll(async () => {
  dns = await startDnsFor("a.test", "b.test");
  const [pa, pb] = await twoPorts();
  a = await startSide("a.test", ALICE, pa, pb, dns);
  b = await startSide("b.test", BOB, pb, pa, dns);
  await publishRecords(a, "a.test");
  await publishRecords(b, "b.test");
});
afterAll(async () => {
  await a?.cleanup();
  await b?.cleanup();
  await dns?.close();
});

describe("Alice on a.test writes to Bob on b.test", () => {
  test("SPF, DKIM and DMARC pass at b.test; Bob reads it over IMAP and answers; Alice gets it by POP3", async () => {
    const records = [...dns.zone.keys()];
    expect(records.some((n) => n.endsWith("._domainkey.a.test"))).toBe(true);
    expect(records).toContain("_dmarc.a.test");

    // 1. Alice submits with swaks: STARTTLS, AUTH PLAIN, to a remote domain.
    const sent = await run([
      "swaks",
      "--server",
      `127.0.0.1:${a.port("submission")}`,
      "--tls",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE.address,
      "--auth-password",
      ALICE.password,
      "--from",
      ALICE.address,
      "--to",
      BOB.address,
      "--header",
      "Subject: lunch on friday?",
      "--body",
      "Hi Bob,\nlunch on Friday at noon?\n-- Alice",
    ]);
    expect(sent.out).toContain("STARTTLS");
    expect(sent.out).toContain("250");
    expect(sent.code).toBe(0);

    // 2. MX delivery to b.test; the message lands in Bob's INBOX with passing checks.
    const got = await until("Bob's INBOX", async () => (await inbox(b, BOB.address)).find((m) => m.includes("lunch on friday?")));
    const ar = /^Authentication-Results:[^\n]*(\n[ \t][^\n]*)*/im.exec(got)?.[0] ?? "";
    expect(ar).toMatch(/spf=pass/);
    expect(ar).toMatch(/dkim=pass/);
    expect(ar).toMatch(/dmarc=pass/);
    expect(got).toMatch(/^DKIM-Signature:/im);

    // 3. Bob reads it with imaplib over implicit TLS.
    const imap = await run([
      "python3",
      "-c",
      `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", ${b.port("imaps")}, ssl_context=ctx)
m.login("${BOB.address}", "${BOB.password}")
typ, data = m.select("INBOX")
typ, ids = m.search(None, 'SUBJECT', '"lunch on friday"')
typ, msg = m.fetch(ids[0].split()[-1], "(BODY[])")
sys.stdout.write(msg[0][1].decode())
m.logout()
`,
    ]);
    expect(imap.code).toBe(0);
    expect(imap.out).toContain("lunch on Friday at noon?");
    expect(imap.out).toContain(`From: ${ALICE.address}`);

    // 4. Bob answers with smtplib over 465 (implicit TLS, AUTH).
    const reply = await run([
      "python3",
      "-c",
      `
import smtplib, ssl
from email.message import EmailMessage
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = EmailMessage(); m["From"] = "${BOB.address}"; m["To"] = "${ALICE.address}"; m["Subject"] = "Re: lunch on friday?"
m.set_content("Friday at noon works.")
with smtplib.SMTP_SSL("127.0.0.1", ${b.port("submissions")}, context=ctx) as s:
    s.login("${BOB.address}", "${BOB.password}")
    s.send_message(m)
print("sent")
`,
    ]);
    expect(reply.out).toContain("sent");
    expect(reply.code).toBe(0);

    // 5. Alice downloads it with poplib over 995 and deletes it from the server.
    await until("Alice's INBOX", async () => (await inbox(a, ALICE.address)).find((m) => m.includes("Re: lunch on friday?")));
    const pop = await run([
      "python3",
      "-c",
      `
import poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", ${a.port("pop3s")}, context=ctx)
p.user("${ALICE.address}"); p.pass_("${ALICE.password}")
n, size = p.stat()
resp, lines, octets = p.retr(n)
sys.stdout.write(b"\\r\\n".join(lines).decode())
p.dele(n)
p.quit()
`,
    ]);
    expect(pop.code).toBe(0);
    expect(pop.out).toContain("Friday at noon works.");
    expect(pop.out).toMatch(/dkim=pass/);
    expect(await inbox(a, ALICE.address)).toEqual([]);
  });
});
