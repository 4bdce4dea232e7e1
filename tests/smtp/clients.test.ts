// The SMTP plugin driven by clients other people wrote: swaks (Debian) and python3's
// smtplib, on port 25, 587 (STARTTLS) and 465 (implicit TLS). Delivered messages are read
// back through the store API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import nodemailer from "nodemailer";
import { definePlugin } from "../../core/types.ts";
import smtp from "../../plugins/smtp/index.ts";
import { mailbox, pySend, smtpServer, swaks } from "../helpers/smtp.ts";

const ALICE = "alice@example.test";
const BOB = "bob@example.test";
const JOERG = "jörg@example.test";
const PW = "correct horse";
const MANY = Array.from({ length: 7 }, (_, i) => `user${i}@example.test`);
const MAX_SIZE = 100_000;

/** A route handler for "fan-N@example.test": account MANY[N % 7] (many recipients
 *  without hashing a hundred passwords). Runs before the core's default. */
const fanOut = definePlugin({
  name: "test-fan-out",
  setup(core) {
    core.hooks.on("route", async (_txn, rcpt) => {
      const m = /^fan-(\d+)$/.exec(rcpt.local);
      if (!m || rcpt.domain !== "example.test") return { kind: "pass" };
      const acct = await core.store.getAccount(MANY[Number(m[1]) % MANY.length]!);
      return { kind: "route", local: [{ accountId: acct!.id, mailbox: "INBOX" }], remote: [] };
    });
  },
});

let s: TestServer;
let p25: number, p587: number, p465: number;

beforeAll(async () => {
  s = await smtpServer({
    users: [ALICE, BOB, JOERG, ...MANY].map((address) => ({ address, password: PW })),
    plugins: [fanOut, smtp],
    config: { limits: { maxMessageSize: MAX_SIZE, maxRecipients: 100 } },
  });
  p25 = s.port("smtp");
  p587 = s.port("submission");
  p465 = s.port("submissions");
}, 30_000); // argon2id hashing of the test accounts takes a while
afterAll(async () => {
  await s?.cleanup();
});

const subjectIn = (msgs: string[], subject: string) => msgs.filter((m) => m.includes(`Subject: ${subject}\r\n`));

describe("port 25 (inbound MX)", () => {
  test("swaks plain: delivered to the INBOX with our Received header", async () => {
    const r = await swaks(p25, ["--to", ALICE, "--from", "sender@remote.test", "--header", "Subject: plain-25", "--body", "Hello over plain SMTP."]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/<- {2}250 2\.0\.0 OK queued as \w+/);
    const [m] = subjectIn(await mailbox(s, ALICE), "plain-25");
    expect(m).toBeDefined();
    expect(m!).toMatch(/^Return-Path: <sender@remote\.test>\r\nReceived: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(kotakpos\) with ESMTP id \w+\r\n\tfor <alice@example\.test>;/);
    expect(m!).toContain("\r\n\r\nHello over plain SMTP.\r\n");
  });

  test("swaks STARTTLS: Received says ESMTPS with the TLS version and cipher", async () => {
    const r = await swaks(p25, ["--tls", "--to", BOB, "--from", "sender@remote.test", "--header", "Subject: starttls-25"]);
    expect(r.code).toBe(0);
    const [m] = subjectIn(await mailbox(s, BOB), "starttls-25");
    expect(m!).toMatch(/with ESMTPS id \w+\r\n\t\(using TLSv1\.[23] with cipher \w+\)/);
  });

  test("relay denied without AUTH (554 5.7.1); unknown local user 550 5.1.1", async () => {
    const relay = await swaks(p25, ["--to", "someone@elsewhere.test", "--from", "sender@remote.test"]);
    expect(relay.code).not.toBe(0);
    expect(relay.stdout).toContain("554 5.7.1 Relay access denied");
    const unknown = await pySend(p25, { from: "sender@remote.test", to: ["nobody@example.test"], msg: "Subject: x\r\n\r\nx\r\n" });
    expect(unknown).toMatchObject({ ok: false, error: "SMTPRecipientsRefused", recipients: { "nobody@example.test": [550, "5.1.1 No such user here"] } });
  });

  test("no AUTH on port 25", async () => {
    const r = await pySend(p25, { from: ALICE, to: [BOB], msg: "Subject: x\r\n\r\nx\r\n", login: [ALICE, PW] });
    expect(r).toMatchObject({ ok: false, error: "SMTPNotSupportedError" });
    expect(r.esmtp_features).not.toContain("auth");
  });

  test("swaks --pipeline: several recipients in one pipelined group", async () => {
    const r = await swaks(p25, ["--pipeline", "--to", `${ALICE},${BOB}`, "--from", "sender@remote.test", "--header", "Subject: pipelined"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("PIPELINING");
    expect(subjectIn(await mailbox(s, ALICE), "pipelined")).toHaveLength(1);
    expect(subjectIn(await mailbox(s, BOB), "pipelined")).toHaveLength(1);
  });

  test("8-bit body with BODY=8BITMIME arrives byte for byte", async () => {
    const body = "Grüße aus Jakarta — selamat pagi! 日本語\r\n";
    const msg = `Subject: eightbit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}`;
    const r = await pySend(p25, { from: "sender@remote.test", to: [ALICE], msg, mail_options: ["BODY=8BITMIME"] });
    expect(r).toMatchObject({ ok: true, refused: {} });
    const [m] = subjectIn(await mailbox(s, ALICE), "eightbit");
    expect(m!.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });

  test("SMTPUTF8: a UTF-8 sender address and UTF-8 headers", async () => {
    const msg = "From: Jürgen <jürgen@bücher.test>\r\nSubject: utf8-address\r\n\r\nHallo\r\n";
    const r = await pySend(p25, { from: "jürgen@bücher.test", to: [ALICE], msg, mail_options: ["SMTPUTF8"] });
    expect(r).toMatchObject({ ok: true });
    const [m] = subjectIn(await mailbox(s, ALICE), "utf8-address");
    expect(m!).toContain("with UTF8SMTP id");
    expect(m!).toContain("From: Jürgen <jürgen@bücher.test>\r\n");
    // Without SMTPUTF8 the same address is refused (RFC 6531 §3.4).
    const bad = await swaks(p25, ["--to", ALICE, "--from", "jürgen@bücher.test"]);
    expect(bad.stdout).toContain("553 5.6.7");
  });

  test("SMTPUTF8: a UTF-8 local recipient, matched case-insensitively, and an upper-case ASCII one", async () => {
    const msg = "Subject: utf8-rcpt\r\n\r\nHallo Jörg\r\n";
    const r = await pySend(p25, { from: "sender@remote.test", to: ["Jörg@EXAMPLE.test", "ALICE@Example.Test"], msg, mail_options: ["SMTPUTF8"] });
    expect(r).toMatchObject({ ok: true, refused: {} });
    expect(subjectIn(await mailbox(s, JOERG), "utf8-rcpt")).toHaveLength(1);
    expect(subjectIn(await mailbox(s, ALICE), "utf8-rcpt")).toHaveLength(1);
  });

  test("oversized message: 552 at MAIL (SIZE=) and after DATA (no SIZE)", async () => {
    const big = `Subject: too-big\r\n\r\n${"0123456789".repeat(99) + "\r\n"}`.repeat(Math.ceil((MAX_SIZE * 1.2) / 1000));
    const withSize = await pySend(p25, { from: "sender@remote.test", to: [ALICE], msg: big });
    expect(withSize).toMatchObject({ ok: false, error: "SMTPSenderRefused", code: 552 });
    expect(withSize.msg).toStartWith("5.3.4");
    const r = await swaks(p25, ["--to", ALICE, "--from", "sender@remote.test", "--header", "Subject: too-big", "--body", "x".repeat(900) + "\n" + ("y".repeat(900) + "\n").repeat(130)]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("552 5.3.4 Message size exceeds fixed maximum message size");
    expect(subjectIn(await mailbox(s, ALICE), "too-big")).toHaveLength(0);
  });

  test("many recipients: 110 RCPTs, every INBOX gets one copy; beyond limits.maxRecipients 452", async () => {
    const msg = "Subject: many-rcpts\r\n\r\nto everyone\r\n";
    const to = [...MANY, ...Array.from({ length: 103 }, (_, i) => `fan-${i}@example.test`)];
    const r = await pySend(p25, { from: "sender@remote.test", to, msg });
    // limits.maxRecipients = 100: the last ten get 452 4.5.3 (RFC 5321 §4.5.3.1.10).
    expect(r.ok).toBe(true);
    expect(Object.keys(r.refused!)).toEqual(to.slice(100));
    expect(r.refused![to[100]!]).toEqual([452, "4.5.3 Too many recipients"]);
    // Recipients routed to the same mailbox get one copy (one blob, one row per mailbox).
    for (const u of MANY) expect(subjectIn(await mailbox(s, u), "many-rcpts")).toHaveLength(1);
    expect(subjectIn(await mailbox(s, ALICE), "many-rcpts")).toHaveLength(0);
  });
});

describe("submission (587 STARTTLS, 465 implicit TLS)", () => {
  test("swaks 587 STARTTLS + AUTH LOGIN to a local user", async () => {
    const r = await swaks(p587, ["--tls", "--auth", "LOGIN", "--auth-user", ALICE, "--auth-password", PW, "--to", BOB, "--from", ALICE, "--header", "Subject: sub-587"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("235 2.7.0 Authentication successful");
    const [m] = subjectIn(await mailbox(s, BOB), "sub-587");
    expect(m!).toContain("with ESMTPSA id");
  });

  test("swaks 465 implicit TLS + AUTH PLAIN: a remote recipient goes to the spool", async () => {
    const r = await swaks(p465, [
      "--tlsc",
      "--tls-sni",
      "mx.example.test",
      "--auth",
      "PLAIN",
      "--auth-user",
      ALICE,
      "--auth-password",
      PW,
      "--to",
      "friend@remote.test",
      "--from",
      ALICE,
      "--header",
      "Subject: sub-465",
    ]);
    expect(r.code).toBe(0);
    const id = /queued as (\w+)/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    const rows = await s.core.spool.get(id!);
    expect(rows.map((x) => [x.recipient, x.mailFrom])).toEqual([["friend@remote.test", ALICE]]);
  });

  test("python SMTP_SSL on 465: Message-ID and Date added when missing", async () => {
    const r = await pySend(p465, { ssl: true, host: "localhost", login: [ALICE, PW], from: ALICE, to: [BOB], msg: "From: alice@example.test\r\nSubject: no-id\r\n\r\nbody\r\n" });
    expect(r).toMatchObject({ ok: true });
    const [m] = subjectIn(await mailbox(s, BOB), "no-id");
    expect(m!).toMatch(/\r\nMessage-ID: <[\w.-]+@mx\.example\.test>\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\nFrom: alice@example\.test\r\n/);
  });

  test("465 without SNI (a client connecting by IP address)", async () => {
    const r = await pySend(p465, { ssl: true, login: [ALICE, PW], from: ALICE, to: [BOB], msg: "Subject: no-sni\r\n\r\nx\r\n" });
    expect(r.ok).toBe(true);
  });

  test("nodemailer (pooled, STARTTLS required, AUTH): three messages over one connection", async () => {
    const t = nodemailer.createTransport({
      host: "127.0.0.1",
      port: p587,
      secure: false,
      requireTLS: true,
      pool: true,
      maxConnections: 1,
      auth: { user: ALICE, pass: PW },
      tls: { rejectUnauthorized: false },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const info = await t.sendMail({ from: ALICE, to: BOB, subject: `nodemailer-${i}`, text: "Ünïcödé body", attachments: [{ filename: "a.bin", content: Buffer.alloc(3000, i) }] });
        expect(info.accepted).toEqual([BOB]);
        expect(info.response).toMatch(/^250 2\.0\.0 OK queued as \w+$/);
      }
    } finally {
      t.close();
    }
    const got = await mailbox(s, BOB);
    for (let i = 0; i < 3; i++) expect(subjectIn(got, `nodemailer-${i}`)).toHaveLength(1);
  });

  test("AUTH failure: 535 5.7.8", async () => {
    const r = await swaks(p587, ["--tls", "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", "wrong", "--to", BOB, "--from", ALICE]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("535 5.7.8 Authentication credentials invalid");
    const py = await pySend(p587, { starttls: true, login: [ALICE, "wrong"], from: ALICE, to: [BOB], msg: "x\r\n" });
    expect(py).toMatchObject({ ok: false, error: "SMTPAuthenticationError", code: 535 });
  });

  test("MAIL FROM an address the user does not own: 550 5.7.1", async () => {
    const r = await pySend(p587, { starttls: true, login: [ALICE, PW], from: BOB, to: [ALICE], msg: "Subject: forged\r\n\r\nx\r\n" });
    expect(r).toMatchObject({ ok: false, error: "SMTPSenderRefused", code: 550 });
    expect(r.msg).toStartWith("5.7.1");
  });

  test("submission without AUTH: 530 5.7.0", async () => {
    const r = await pySend(p587, { starttls: true, from: ALICE, to: [BOB], msg: "x\r\n" });
    expect(r).toMatchObject({ ok: false, error: "SMTPSenderRefused", code: 530 });
  });

  test("EHLO on 587 offers AUTH after STARTTLS and the loopback exception is honoured", async () => {
    const r = await pySend(p587, { starttls: true, login: [ALICE, PW], from: ALICE, to: [ALICE], msg: "Subject: ehlo-587\r\n\r\nx\r\n" });
    expect(r.ok).toBe(true);
    for (const ext of ["auth", "pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "chunking", "dsn"]) expect(r.esmtp_features).toContain(ext);
    expect(r.esmtp_features).not.toContain("starttls");
  });
});
