// Smarthost (`[delivery.relay]`): all outbound mail of A goes through a relay that requires
// AUTH over STARTTLS — aiosmtpd with an authenticator (a relay others wrote) — and arrives
// at C; a wrong password defers with the relay's answer in the queue (never a bounce on
// the first try); a relay without TLS is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import nodemailer from "nodemailer";
import type { TestServer } from "../helpers/server.ts";
import { freePort, waitPort } from "../helpers/aiosmtpd.ts";
import type { TestDns } from "../helpers/dns-server.ts";
import { inbox, startDnsFor, startSide, until } from "../helpers/pair.ts";
import { main } from "../../main.ts";

const ALICE = { address: "alice@a.test", password: "alice-password-1" };
const CAROL = { address: "carol@c.test", password: "carol-password-1" };
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-relay-"));
let dns: TestDns;
let c: TestServer;
const cleanups: (() => Promise<void> | void)[] = [];
let cert = "";
let key = "";

beforeAll(async () => {
  dns = await startDnsFor("a.test", "c.test");
  dns.set("relay.test", { A: ["127.0.0.1"] });
  cert = join(tmp, "relay-cert.pem");
  key = join(tmp, "relay-key.pem");
  await $`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=relay.test -addext subjectAltName=DNS:relay.test -keyout ${key} -out ${cert}`.quiet();
  const cPort = await freePort();
  c = await startSide("c.test", CAROL, cPort, 1, dns);
});
afterAll(async () => {
  for (const f of cleanups.reverse()) await f();
  await c?.cleanup();
  await dns?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** aiosmtpd relay forwarding to C; returns its port and the messages it relayed. */
async function startRelay(name: string, opts: { tls: boolean }) {
  const port = await freePort();
  const out = join(tmp, name);
  await $`mkdir -p ${out}`;
  const proc = Bun.spawn(
    ["/usr/bin/python3", join(import.meta.dir, "relay.py"), String(port), out, String(c.port("smtp")), "relayuser", "relay-secret", cert, key, ...(opts.tls ? [] : ["--no-tls"])],
    { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
  await waitPort(port, proc);
  cleanups.push(async () => {
    proc.stdin.end();
    proc.kill();
    await proc.exited;
  });
  return {
    port,
    relayed: () =>
      readdirSync(out)
        .filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(readFileSync(join(out, f), "utf8")) as { tls: boolean; authUser: string; rcptTo: string[] }),
  };
}

async function sideA(name: string, relayPort: number, passwordFile: string): Promise<TestServer> {
  const s = await startSide("a.test", ALICE, await freePort(), 1, dns, {
    config: { delivery: { relay: { url: `smtp://relay.test:${relayPort}`, username: "relayuser", passwordFile, caFile: cert } } },
  });
  cleanups.push(() => s.cleanup());
  void name;
  return s;
}

async function submit(a: TestServer, subject: string) {
  const t = nodemailer.createTransport({ host: "127.0.0.1", port: a.port("submission"), secure: false, auth: { user: ALICE.address, pass: ALICE.password }, tls: { rejectUnauthorized: false } });
  try {
    await t.sendMail({ from: ALICE.address, to: [CAROL.address], subject, text: "via the smarthost\n" });
  } finally {
    t.close();
  }
}

test("A's outbound mail goes through the AUTH + STARTTLS relay and arrives at C", async () => {
  const relay = await startRelay("ok", { tls: true });
  const pw = join(tmp, "pw-ok");
  writeFileSync(pw, "relay-secret\n");
  const a = await sideA("ok", relay.port, pw);
  await submit(a, "through the relay");
  const msg = await until("Carol's message", async () => (await inbox(c, CAROL.address)).find((m) => m.includes("Subject: through the relay")));
  expect(msg).toContain("via the smarthost");
  expect(relay.relayed()).toEqual([{ mailFrom: ALICE.address, rcptTo: [CAROL.address], tls: true, authUser: "relayuser" } as never]);
  await until("the spool row delivered", async () => (await a.core.spool.list()).every((r) => r.status === "delivered") || undefined);
}, 30_000);

test("a wrong password defers with the relay's answer, never bounces on the first try", async () => {
  const relay = await startRelay("badpw", { tls: true });
  const pw = join(tmp, "pw-bad");
  writeFileSync(pw, "not-the-secret\n");
  const a = await sideA("badpw", relay.port, pw);
  await submit(a, "wrong password");
  const row = await until("deferred row", async () => (await a.core.spool.list()).find((e) => e.status === "deferred" && (e.lastError ?? "").includes("authentication refused")));
  expect(row.lastError).toMatch(/relay\.test\[127\.0\.0\.1\]: authentication refused: 535 5\.7\.8 Authentication credentials invalid/);
  expect(row.lastError).not.toContain("not-the-secret");
  expect(relay.relayed()).toEqual([]);
  // fixing the password file lets the queue go on
  writeFileSync(pw, "relay-secret\n");
  await a.core.spool.retry(row.id);
  await until("Carol's message", async () => (await inbox(c, CAROL.address)).find((m) => m.includes("Subject: wrong password")));
}, 30_000);

test("a relay without TLS is refused: deferred, the password never sent", async () => {
  const relay = await startRelay("notls", { tls: false });
  const pw = join(tmp, "pw-notls");
  writeFileSync(pw, "relay-secret\n");
  const a = await sideA("notls", relay.port, pw);
  await submit(a, "no tls");
  const row = await until("deferred row", async () => (await a.core.spool.list()).find((e) => e.status === "deferred"));
  expect(row.lastError).toContain("TLS required by the relay relay.test but STARTTLS not offered");
  expect(relay.relayed()).toEqual([]);
}, 30_000);

test("kotakpos relay test says in plain words what works and what does not", async () => {
  const relay = await startRelay("cli", { tls: true });
  const pw = join(tmp, "pw-cli");
  writeFileSync(pw, "relay-secret\n");
  const data = join(tmp, "cli-data");
  const cfg = join(tmp, "cli.toml");
  const write = (url: string) =>
    writeFileSync(cfg, `hostname = "mx.a.test"\n[dns]\nservers = ["${dns.server}"]\n[delivery.relay]\nurl = "${url}"\nusername = "relayuser"\npasswordFile = "${pw}"\ncaFile = "${cert}"\n`);
  write(`smtp://relay.test:${relay.port}`);
  const run = async () => {
    let out = "";
    let err = "";
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), readStdin: async () => "", promptHidden: async () => null, env: {} };
    const code = await main(["relay", "test", "--data", data, "--config", cfg], io);
    return { code, out, err };
  };
  expect(await run()).toEqual({ code: 0, out: `ok: relay.test:${relay.port} (127.0.0.1) — STARTTLS, certificate verified, logged in as relayuser\n`, err: "" });
  writeFileSync(pw, "wrong\n");
  const bad = await run();
  expect(bad.code).toBe(1);
  expect(bad.out).toContain("authentication refused: 535");
  expect(bad.err).toBe("kotakpos: the relay cannot be used (see above); mail waits in the queue until it can\n");
  write("http://relay.test");
  expect((await run()).err).toContain('delivery.relay.url "http://relay.test" is not smtp://host:port');
}, 30_000);
