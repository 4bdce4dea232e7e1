// The edge relay (issue 20), three kotakpos instances on loopback: C (a sender elsewhere,
// c.test), E (the edge: MX of home.test in the test DNS) and H (home.test, which opens
// every connection itself). Pairing with a one-time code that pins E's certificate; C → E
// → H by ODMR (RFC 2645); H's user reads it over IMAP (imaplib) and writes to C through E
// (smtplib); an unknown recipient is refused by E at RCPT; a wrong credential is refused
// and rate-limited; H stopped: the mail waits on E and arrives after H's restart.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { inbox, serverConfig, startDnsFor, startSide, twoPorts, until } from "../helpers/pair.ts";
import { decodeCode } from "../../plugins/edge/code.ts";
import { login, openLink } from "../../plugins/edge/odmr-client.ts";
import type { EdgeStatus } from "../../plugins/edge/index.ts";

const CAROL = { address: "carol@c.test", password: "carol-password-1" };
const HANNA = { address: "hanna@home.test", password: "hanna-password-1" };

let dns: TestDns;
let c: TestServer;
let e: TestServer;
let h: TestServer;
let hDir = "";
let code = "";

const homeConfig = (dnsServer: string) => ({
  hostname: "mx.home.test",
  dns: { servers: [dnsServer], timeout: "1s" },
  // Nothing at home is reachable from outside; mail goes out through the edge only.
  delivery: { port: 9, retry: ["1s"], maxAge: "1h", warnAfter: "" },
  edge: { pollSeconds: 0.5 },
});

async function startHome(): Promise<TestServer> {
  return startTestServer({ dataDir: hDir || undefined, domains: ["home.test"], users: [HANNA], keepData: true, config: homeConfig(dns.server) });
}

async function python(script: string): Promise<string> {
  const p = Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  return out + err;
}

/** smtplib to a submission port: log in, send; prints "sent" or the error. */
const submit = (port: number, user: { address: string; password: string }, to: string, subject: string) =>
  python(`
import smtplib
from email.message import EmailMessage
m = EmailMessage(); m["From"] = "${user.address}"; m["To"] = "${to}"; m["Subject"] = "${subject}"
m.set_content("hello from ${user.address}")
with smtplib.SMTP("127.0.0.1", ${port}) as s:
    s.login("${user.address}", "${user.password}")
    s.send_message(m)
print("sent")
`);

async function homeRecords(): Promise<{ name: string; type: string; value: string }[]> {
  const token = readFileSync(join(h.dataDir, "admin.token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${h.port("http")}/api/admin/domains/home.test/dns`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { name: string; type: string; value: string }[];
}

const status = (s: TestServer) => s.admin.call("edge.status") as Promise<EdgeStatus>;

beforeAll(async () => {
  dns = await startDnsFor("c.test");
  dns.set("home.test", { MX: [{ exchange: "mx.edge.test", priority: 10 }] });
  dns.set("mx.edge.test", { A: ["127.0.0.1"] });
  const [cPort, ePort] = await twoPorts();
  c = await startSide("c.test", CAROL, cPort, ePort, dns);
  e = await startTestServer({ domains: ["edge.test"], config: serverConfig("edge.test", ePort, cPort, dns, { listen: { ports: { smtp: ePort, odmr: 0 } } }) });
  h = await startHome();
  hDir = h.dataDir;
  code = ((await e.admin.call("edge.add", "home.test")) as { code: string }).code;
}, 30_000);

afterAll(async () => {
  for (const s of [h, e, c]) await s?.cleanup();
  for (const s of [h, c]) if (s) rmSync(s.dataDir, { recursive: true, force: true });
  await dns?.close();
});

test("pairing: the code carries the edge's certificate fingerprint and works once", async () => {
  const parts = decodeCode(code)!;
  expect(parts.domain).toBe("home.test");
  expect(parts.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  // The edge by its name (mx.edge.test in the test DNS, through H's dns.servers).
  const joined = await h.admin.call("edge.join", `mx.edge.test:${e.port("odmr")}`, code);
  expect(joined).toEqual({ domain: "home.test", host: "mx.edge.test", port: e.port("odmr") });
  // Spent: a second join with the same code is refused.
  await expect(h.admin.call("edge.join", `127.0.0.1:${e.port("odmr")}`, code)).rejects.toThrow(/refused the credential of home.test: 535/);
  // A code whose fingerprint is not the edge's certificate: the home refuses to log in.
  const forged = code.slice(0, 4) + Buffer.from(Buffer.from(code.slice(4), "base64url").map((b, i) => (i === 40 ? b ^ 1 : b))).toString("base64url");
  await expect(h.admin.call("edge.join", `127.0.0.1:${e.port("odmr")}`, forged)).rejects.toThrow(/is not the one of the pairing/);
  // The home's recipients reach the edge.
  const s = await until("recipients synced", async () => ((await status(e)).homes[0]?.recipients === 1 ? status(e) : null));
  expect(s.homes[0]).toMatchObject({ domain: "home.test", paired: true, recipients: 1, connected: true, queued: 0 });
  expect((await status(h)).edges[0]).toMatchObject({ domain: "home.test", edge: `mx.edge.test:${e.port("odmr")}`, lastError: null });
  // `kotakpos dns` at home (the records of the admin API) points the MX at the edge; SPF's
  // "mx" then names the edge's addresses; no MTA-STS or DANE records for the home host.
  const records = await homeRecords();
  expect(records.filter((r) => r.type === "MX").map((r) => r.value)).toEqual(["10 mx.edge.test."]);
  expect(records.find((r) => r.name === "home.test" && r.type === "TXT")?.value).toBe('"v=spf1 mx -all"');
  expect(records.some((r) => r.name.startsWith("_mta-sts.") || r.type === "TLSA")).toBe(false);
}, 30_000);

test("C → E → H by ODMR: the home's user reads it over IMAP, with the edge's Authentication-Results", async () => {
  expect(await submit(c.port("submission"), CAROL, HANNA.address, "to the home")).toContain("sent");
  await until("mail at home", async () => (await inbox(h, HANNA.address)).find((m) => m.includes("Subject: to the home")), 20_000);
  const out = await python(`
import imaplib
m = imaplib.IMAP4("127.0.0.1", ${h.port("imap")})
m.login("${HANNA.address}", "${HANNA.password}")
m.select("INBOX")
typ, data = m.search(None, 'SUBJECT "to the home"')
typ, msg = m.fetch(data[0].split()[-1], "(RFC822)")
print(msg[0][1].decode())
m.logout()
`);
  expect(out).toContain("hello from carol@c.test");
  expect(out).toMatch(/Authentication-Results: mx\.edge\.test;/);
  expect(out).toMatch(/Received: from [^\r\n]* by mx\.home\.test \(kotakpos\) with ODMR/);
}, 30_000);

test("E refuses an unknown recipient of home.test at RCPT (no backscatter), takes a known one", async () => {
  const out = await python(`
import smtplib
s = smtplib.SMTP("127.0.0.1", ${e.port("smtp")})
s.ehlo("sender.c.test")
s.mail("carol@c.test")
print("unknown", s.rcpt("nobody@home.test"))
print("known", s.rcpt("${HANNA.address}"))
print("tagged", s.rcpt("hanna+news@home.test"))
print("other", s.rcpt("someone@elsewhere.test"))
s.quit()
`);
  expect(out).toContain("unknown (550, b'5.1.1 nobody@home.test: no such user here')");
  expect(out).toContain("known (250,");
  expect(out).toContain("tagged (250,");
  expect(out).toMatch(/other \(5\d\d, b'5\.7\.1/);
}, 30_000);

test("H's user writes to C through E (send-as only for the paired domain)", async () => {
  expect(await submit(h.port("submission"), HANNA, CAROL.address, "from the home")).toContain("sent");
  const msg = await until("mail at C", async () => (await inbox(c, CAROL.address)).find((m) => m.includes("Subject: from the home")), 20_000);
  expect(msg).toMatch(/Received: from home\.test \(\[127\.0\.0\.1\]\) by mx\.edge\.test \(kotakpos edge\) with ESMTPSA/);
  expect(msg).toMatch(/DKIM-Signature: [^\r\n]*d=home\.test/);
  // The link's credential cannot send as another domain.
  const [link] = await h.core.db.orm.select().from((await import("../../plugins/edge/schema.ts")).edgeLinks);
  const l = await openLink({ host: "127.0.0.1", port: e.port("odmr"), fingerprint: link!.fingerprint }, "test");
  try {
    await login(l, "home.test", link!.secret);
    expect((await l.cmd("MAIL FROM:<ceo@c.test>")).code).toBe(550);
  } finally {
    l.close();
  }
}, 30_000);

test("a wrong pairing credential is refused and rate-limited", async () => {
  const [link] = await h.core.db.orm.select().from((await import("../../plugins/edge/schema.ts")).edgeLinks);
  const l = await openLink({ host: "127.0.0.1", port: e.port("odmr"), fingerprint: link!.fingerprint }, "test");
  try {
    const replies: number[] = [];
    for (let i = 0; i < 6; i++) replies.push((await l.cmd(`AUTH PLAIN ${Buffer.from("\0home.test\0wrong-" + i).toString("base64")}`)).code);
    // Each failure counts for the address (the spent code above was one): refused with 535
    // until the limit, then 454 before the credential is even looked at.
    expect(replies.slice(0, 3)).toEqual([535, 535, 535]);
    expect(replies.at(-1)).toBe(454);
    // Banned now even with the right credential, from this address.
    expect((await l.cmd(`AUTH PLAIN ${Buffer.from(`\0home.test\0${link!.secret}`).toString("base64")}`)).code).toBe(454);
  } finally {
    l.close();
  }
}, 30_000);

test("edge remove unpairs: the credential is revoked on the edge, the link gone at home", async () => {
  const [link] = await h.core.db.orm.select().from((await import("../../plugins/edge/schema.ts")).edgeLinks);
  const { credentialKind } = await import("../../plugins/edge/peers.ts");
  expect(await credentialKind(e.core.db, "home.test", link!.secret)).toBe("linked");
  expect(await e.admin.call("edge.remove", "home.test")).toEqual({ removed: ["home home.test (its credential revoked)"] });
  expect(await credentialKind(e.core.db, "home.test", link!.secret)).toBeNull();
  expect((await status(e)).homes).toEqual([]);
  expect(await h.admin.call("edge.remove", "home.test")).toEqual({ removed: ["link of home.test to its edge"] });
  expect(await status(h)).toEqual({ homes: [], edges: [] });
  expect((await homeRecords()).filter((r) => r.type === "MX").map((r) => r.value)).toEqual(["10 mx.home.test."]);
  // No longer the MX of home.test: an unauthenticated RCPT there is relaying, refused.
  const out = await python(`
import smtplib
s = smtplib.SMTP("127.0.0.1", ${e.port("smtp")})
s.ehlo("sender.c.test")
s.mail("carol@c.test")
print("rcpt", s.rcpt("${HANNA.address}"))
s.quit()
`);
  expect(out).toMatch(/rcpt \(5\d\d, b'5\.7\.1/);
}, 30_000);

test("hostile input on the ODMR port gets protocol errors, and the edge lives on", async () => {
  const { connect } = await import("node:net");
  const sock = connect({ host: "127.0.0.1", port: e.port("odmr") });
  let got = "";
  sock.on("data", (c) => (got += c.toString("latin1")));
  const waitFor = (re: RegExp) => until(`reply ${re}`, () => re.test(got), 5_000);
  await waitFor(/^220 /m);
  sock.write("\x00\xff\xfe binary\r\n" + "X".repeat(10_000) + "\r\nATRN home.test\r\nAUTH PLAIN AGhvbWUudGVzdAB4\r\nMAIL FROM:<a@home.test>\r\nQUIT\r\n");
  await waitFor(/^221 /m);
  const codes = got
    .split("\r\n")
    .filter(Boolean)
    .map((l) => l.slice(0, 3));
  // greeting, two unknowns before login, ATRN and MAIL need a login, AUTH needs TLS first
  expect(codes).toEqual(["220", "530", "530", "530", "530", "530", "221"]);
  expect(got).toContain("530 5.7.0 Must issue a STARTTLS command first");
  sock.destroy();
  // The listener still answers.
  const again = connect({ host: "127.0.0.1", port: e.port("odmr") });
  const greeting = await new Promise<string>((resolve) => again.once("data", (c) => resolve(c.toString())));
  again.destroy();
  expect(greeting).toStartWith("220 mx.edge.test ODMR service ready");
}, 30_000);
