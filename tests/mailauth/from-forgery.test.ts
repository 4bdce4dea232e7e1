// Issue 11 item 2: a user authenticated on submission forging the author. Alice
// (alice@local.test; the server also hosts other.test) submits with Python's smtplib every
// From/Sender variant an attacker would try; each forgery is refused with 550 naming the
// address, and what does leave is checked by dkimpy: every signature verifies and none is
// for a domain Alice may not send as.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { addAlias } from "../../plugins/aliases/admin.ts";
import { mailauthConfigOf } from "../../plugins/mailauth/config.ts";
import { recordsForDomain } from "../../plugins/mailauth/service.ts";
import { startAiosmtpd, freePort, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { startDnsFor, startSide, until } from "../helpers/pair.ts";
import type { TestServer } from "../helpers/server.ts";
import { dkimpy, PYTHON } from "./fixtures.ts";

const ALICE = { address: "alice@local.test", password: "alice-pw-1" };
const CAROL = { address: "carol@other.test", password: "carol-pw-1" };
const BOB = { address: "bob@local.test", password: "bob-pw-1" };

let dns: TestDns;
let peer: Aiosmtpd;
let s: TestServer;

beforeAll(async () => {
  dns = await startDnsFor("local.test", "other.test", "py.test");
  peer = await startAiosmtpd();
  s = await startSide("local.test", ALICE, await freePort(), peer.port, dns, { domains: ["local.test", "other.test"], users: [ALICE, BOB, CAROL] });
  for (const d of ["local.test", "other.test"]) {
    const records = await recordsForDomain({ db: s.core.db, config: s.core.config, mcfg: mailauthConfigOf(s.core.config as Record<string, unknown>) }, d);
    for (const r of records.filter((x) => x.type === "TXT")) dns.set(r.name, { ...(dns.zone.get(r.name) ?? {}), TXT: [r.data] });
  }
  // A shared address Alice is granted to send as (the aliases plugin's smtp.sendas).
  await addAlias(s.core, { address: "team@local.test", targets: [ALICE.address], senders: [ALICE.address] });
}, 30_000);
afterAll(async () => {
  await s?.cleanup();
  if (s) rmSync(s.dataDir, { recursive: true, force: true });
  await peer?.stop();
  await dns?.close();
});

interface Sent {
  ok: boolean;
  code?: number;
  msg?: string;
}

/** Alice submits `head` + a body to someone@py.test with smtplib (AUTH on port 587). */
async function submit(tag: string, head: string, mailFrom = ALICE.address): Promise<Sent> {
  const msg = `${head}To: someone@py.test\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@local.test>\r\n\r\nHello.\r\n`;
  const arg = JSON.stringify({ helo: "client.test", from: mailFrom, to: ["someone@py.test"], msg, login: [ALICE.address, ALICE.password] });
  const p = Bun.spawn([PYTHON, join(import.meta.dir, "send.py"), String(s.port("submission")), arg], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out) as Sent;
}

describe("author forgery on submission is refused, naming the address", () => {
  for (const [tag, head, code, named] of [
    ["same-domain", "From: bob@local.test\r\n", 550, "bob@local.test"],
    ["other-local-domain", "From: CEO <carol@other.test>\r\n", 550, "carol@other.test"],
    ["remote-domain", "From: mallory@gmail.example\r\n", 550, "mallory@gmail.example"],
    ["second-author", "From: alice@local.test, mallory@gmail.example\r\n", 550, "mallory@gmail.example"],
    ["two-from-fields", "From: alice@local.test\r\nFrom: bob@local.test\r\n", 550, "exactly one From"],
    ["sender-forged", "From: alice@local.test\r\nSender: bob@local.test\r\n", 550, "bob@local.test"],
    ["ambiguous", "From: Alice <alice@local.test> carol@other.test\r\n", 550, "carol@other.test"],
    ["group-no-address", "From: Undisclosed:;\r\n", 550, "must hold an address"],
  ] as const) {
    test(`${tag}: ${code} naming ${named}`, async () => {
      const r = await submit(tag, head);
      expect(r.ok).toBe(false);
      expect(r.code).toBe(code);
      expect(r.msg).toContain(named);
    });
  }
});

describe("what Alice may send leaves signed for local.test only", () => {
  test("her own From, a granted address, and none (added from her login): delivered; dkimpy verifies every signature and none is for other.test", async () => {
    expect(await submit("own-from", "From: Alice <alice@local.test>\r\n")).toEqual({ ok: true });
    expect(await submit("granted", "From: Team <team@local.test>\r\nSender: alice@local.test\r\n")).toEqual({ ok: true });
    expect(await submit("no-from", "")).toEqual({ ok: true });
    const got = (tag: string) => until(`${tag} delivered`, () => peer.messages().find((m) => m.data.includes(`Subject: ${tag}`)), 60_000);
    const [own, granted, none] = [await got("own-from"), await got("granted"), await got("no-from")];
    expect(none.data).toMatch(/^From: <alice@local\.test>\r?$/m);
    for (const m of [own, granted, none]) {
      const sigs = JSON.parse(await dkimpy(["verify", "127.0.0.1", String(dns.port)], Buffer.from(m.data.replace(/\r?\n/g, "\r\n"), "latin1"))) as { ok: boolean; d: string }[];
      expect(sigs.length).toBeGreaterThanOrEqual(1);
      for (const sig of sigs) {
        expect(sig.d).toBe("local.test");
        expect(sig.ok).toBe(true);
      }
    }
    // None of the forgeries went out.
    const subjects = peer.messages().map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]?.trim());
    expect(subjects.sort()).toEqual(["granted", "no-from", "own-from"]);
  }, 120_000);
});

describe("our own domains on port 25, unauthenticated", () => {
  /** A message to Alice over port 25 from `source`. */
  async function inbound(source: string, mailFrom: string, from: string, tag: string): Promise<Sent> {
    const msg = `From: ${from}\r\nTo: ${ALICE.address}\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@x.test>\r\n\r\nHello.\r\n`;
    const arg = JSON.stringify({ helo: "outside.test", from: mailFrom, to: [ALICE.address], msg, source });
    const p = Bun.spawn([PYTHON, join(import.meta.dir, "send.py"), String(s.port("smtp")), arg], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return JSON.parse(out) as Sent;
  }

  test("MAIL FROM one of our domains from an address its SPF does not allow: 550 naming the domain", async () => {
    const r = await inbound("127.0.0.5", "ceo@local.test", "CEO <ceo@local.test>", "own-envelope");
    expect(r).toMatchObject({ ok: false, code: 550 });
    expect(r.msg).toContain("local.test is a domain of this server");
  });

  test("a From of our domain behind a foreign envelope: 550 naming the domain", async () => {
    const r = await inbound("127.0.0.5", "x@remote.test", "CEO <ceo@local.test>", "own-author");
    expect(r).toMatchObject({ ok: false, code: 550 });
    expect(r.msg).toContain("From: local.test");
  });

  test("from an address the domain's SPF allows (its MX), aligned: accepted", async () => {
    expect(await inbound("127.0.0.1", "carol@other.test", "Carol <carol@other.test>", "own-allowed")).toEqual({ ok: true });
  });
});
