// End to end: Python's smtplib talks SMTP to kotakpos (smtp + mailauth plugins) while a
// test DNS server publishes the senders' SPF, DKIM and DMARC records; outgoing signatures
// come from the deliver.remote.before hook and are checked by dkimpy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import mailauth from "../../plugins/mailauth/index.ts";
import { recordsForDomain } from "../../plugins/mailauth/service.ts";
import { mailauthConfigOf } from "../../plugins/mailauth/config.ts";
import smtp from "../../plugins/smtp/index.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { dkimpy, makeKey, message, PYTHON, signed, type TestKey } from "./fixtures.ts";

let dns: TestDns;
let s: TestServer;
let senderKey: TestKey;
const PW = "correct horse";

beforeAll(async () => {
  senderKey = await makeKey("sender.test", "k2026a", "rsa-sha256");
  dns = await startTestDns({
    "sender.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "_dmarc.sender.test": { TXT: ["v=DMARC1; p=reject"] },
    [senderKey.name]: { TXT: [senderKey.record] },
    "other.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "quarantine.test": { TXT: ["v=spf1 -all"] },
    "_dmarc.quarantine.test": { TXT: ["v=DMARC1; p=quarantine"] },
    "broken.test": { TXT: ["v=spf1 -all"] },
    "_dmarc.broken.test": { SERVFAIL: true },
  });
  s = await startTestServer({
    plugins: [smtp, mailauth],
    users: [{ address: "alice@example.test", password: PW }],
    config: { dns: { servers: [dns.server], timeout: "1s" } },
  });
}, 30_000);
afterAll(async () => {
  await s?.cleanup();
  await dns?.close();
});

async function send(spec: { from: string; to?: string[]; msg: Uint8Array | string; helo?: string; port?: string; login?: [string, string] }) {
  const body = typeof spec.msg === "string" ? spec.msg : Buffer.from(spec.msg).toString("latin1");
  const arg = JSON.stringify({ helo: spec.helo ?? "client.test", from: spec.from, to: spec.to ?? ["alice@example.test"], msg: body, login: spec.login, starttls: !!spec.login });
  const p = Bun.spawn([PYTHON, join(import.meta.dir, "send.py"), String(s.port(spec.port ?? "smtp")), arg], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`send.py: ${err}`);
  return JSON.parse(out) as { ok: boolean; code?: number; msg?: string };
}

async function messages(mailbox = "INBOX"): Promise<string[]> {
  const st = s.core.store;
  const acct = await st.getAccount("alice@example.test");
  const mb = await st.getMailbox(acct!.id, mailbox);
  const out: string[] = [];
  for (const m of await st.messages(mb!.id)) out.push(Buffer.from(await st.read(m)).toString("latin1"));
  return out;
}

const last = async (mailbox = "INBOX") => (await messages(mailbox)).at(-1)!;
const tag = () => Math.random().toString(36).slice(2);

test("aligned DKIM and SPF: delivered with one Authentication-Results on top", async () => {
  const subject = `ok ${tag()}`;
  const r = await send({ from: "bounce@sender.test", msg: signed(message("news@sender.test", { subject }), [senderKey.key]) });
  expect(r).toEqual({ ok: true });
  const m = await last();
  expect(m).toContain(subject);
  // On top, below only the Return-Path of final delivery (RFC 5321 §4.4).
  expect(m.replace(/^Return-Path: [^\r\n]*\r\n/, "").startsWith("Authentication-Results: mx.example.test;")).toBe(true);
  expect(m.match(/^Authentication-Results:/gm)).toHaveLength(1);
  expect(m).toMatch(/dkim=pass[^;]*header\.d=sender\.test/);
  expect(m).toMatch(/spf=pass[^;]*smtp\.mailfrom=bounce@sender\.test/);
  expect(m).toContain("dmarc=pass");
});

test("forged From of a p=reject domain: 550 5.7.1, nothing stored", async () => {
  const before = (await messages()).length;
  const r = await send({ from: "x@other.test", msg: message("ceo@sender.test") });
  expect(r.ok).toBe(false);
  expect(r.code).toBe(550);
  expect(r.msg).toContain("5.7.1");
  expect((await messages()).length).toBe(before);
});

test("failing a p=quarantine domain: accepted into Junk", async () => {
  const subject = `junk ${tag()}`;
  expect(await send({ from: "x@other.test", msg: message("a@quarantine.test", { subject }) })).toEqual({ ok: true });
  expect(await last("Junk")).toContain(subject);
  expect((await messages()).some((m) => m.includes(subject))).toBe(false);
});

test("DMARC record unreachable: 451, the sender retries later", async () => {
  const r = await send({ from: "x@other.test", msg: message("a@broken.test") });
  expect(r).toMatchObject({ ok: false, code: 451 });
});

test("a forged Authentication-Results with our authserv-id is removed", async () => {
  const subject = `forged ${tag()}`;
  const msg = message("bounce@sender.test", { subject, extra: ["Authentication-Results: mx.example.test; dmarc=pass header.from=bank.test", "Authentication-Results: elsewhere.test; spf=none"] });
  expect(await send({ from: "bounce@sender.test", msg })).toEqual({ ok: true });
  const m = await last();
  expect(m).toContain(subject);
  expect(m).not.toContain("header.from=bank.test");
  expect(m).toContain("Authentication-Results: elsewhere.test; spf=none");
  expect(m.match(/^Authentication-Results: mx\.example\.test/gm)).toHaveLength(1);
});

test("authenticated submission skips the inbound checks", async () => {
  const subject = `sub ${tag()}`;
  const r = await send({ from: "alice@example.test", msg: message("alice@example.test", { subject }), port: "submission", login: ["alice@example.test", PW] });
  expect(r).toEqual({ ok: true });
  const m = await last();
  expect(m).toContain(subject);
  expect(m).not.toContain("Authentication-Results: mx.example.test");
});

test("outgoing mail is signed (RSA + Ed25519, keys made on first use); dkimpy verifies with the records `kotakpos dns` prints", async () => {
  const raw = message("alice@example.test", { subject: `out ${tag()}` });
  const results = await s.core.hooks.all("deliver.remote.before", {
    id: "t1",
    mailFrom: "alice@example.test",
    recipients: ["bob@remote.test"],
    domain: "remote.test",
    fromDomain: "example.test",
    raw,
  });
  const headers = results.flatMap((r) => (r?.kind === "headers" ? r.headers : []));
  expect(headers).toHaveLength(2);
  expect(headers.map((h) => /a=([\w-]+)/.exec(h)![1])).toEqual(["rsa-sha256", "ed25519-sha256"]);
  // Publish exactly what the records generator says.
  const records = await recordsForDomain({ db: s.core.db, config: s.core.config, mcfg: mailauthConfigOf(s.core.config as Record<string, unknown>) }, "example.test");
  for (const r of records.filter((x) => x.type === "TXT")) dns.set(r.name, { TXT: [r.data] });
  const out = Buffer.concat([Buffer.from(headers.join("")), raw]);
  const verified = JSON.parse(await dkimpy(["verify", "127.0.0.1", String(dns.port)], out)) as { ok: boolean; d: string }[];
  expect(verified).toEqual([expect.objectContaining({ ok: true, d: "example.test" }), expect.objectContaining({ ok: true, d: "example.test" })]);
  // Mail from a domain that is not ours is not signed.
  const foreign = await s.core.hooks.all("deliver.remote.before", {
    id: "t2",
    mailFrom: "x@other.test",
    recipients: ["bob@remote.test"],
    domain: "remote.test",
    fromDomain: "other.test",
    raw: message("x@other.test"),
  });
  expect(foreign.flatMap((r) => (r?.kind === "headers" ? r.headers : []))).toEqual([]);
});

test("the admin API over HTTP: records and check behind the admin token", async () => {
  const { readFileSync } = await import("node:fs");
  const token = readFileSync(join(s.dataDir, "admin.token"), "utf8").trim();
  const base = `http://127.0.0.1:${s.port("http")}/api/admin/domains/example.test`;
  expect((await fetch(`${base}/dns`)).status).toBe(401);
  const res = await fetch(`${base}/dns`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const records = (await res.json()) as { name: string; type: string }[];
  expect(records.filter((r) => r.name.endsWith("._domainkey.example.test"))).toHaveLength(2);
  const check = (await (await fetch(`${base}/dns/check`, { headers: { authorization: `Bearer ${token}` } })).json()) as { record: { name: string }; status: string }[];
  // The TXT records were published by the signing test above; no MX was.
  expect(check.filter((c) => c.record.name.endsWith("._domainkey.example.test")).map((c) => c.status)).toEqual(["right", "right"]);
  expect(check.find((c) => c.record.name === "_dmarc.example.test")!.status).toBe("right");
  expect(check.find((c) => (c.record as { type?: string }).type === "MX")!.status).toBe("missing");
});
