// ACME against Debian's pebble (a real ACME server): HTTP-01 on the http listener, the
// self-check skipping a name that points elsewhere, every TLS listener (implicit and
// STARTTLS) verified by openssl s_client against pebble's root, a forced renewal while an
// IMAP IDLE session stays connected, and a CA refusal that leaves the old certificate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import { join } from "node:path";
import { main } from "../../main.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { freePort, startPebble, type Pebble } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { leafOf, pemFile, sClient } from "../helpers/tls.ts";

const HOST = "mx.example.test";
let dns: TestDns;
let pebble: Pebble;
let srv: TestServer;
let httpPort: number;
let rootFile: string;
let token: string;

async function until<T>(fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(100);
  }
}

const api = (path: string, init?: RequestInit) =>
  fetch(`http://127.0.0.1:${srv.port("http")}/api/admin${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });

beforeAll(async () => {
  dns = await startTestDns({
    [HOST]: { A: ["127.0.0.1"] },
    "mta-sts.example.test": { A: ["127.0.0.1"] },
    // Points at another address: the self-check must skip it and never order it.
    "autoconfig.example.test": { A: ["127.0.0.2"] },
  });
  httpPort = await freePort();
  pebble = await startPebble({ httpPort, tlsPort: await freePort(), dnsServer: dns.server, validitySeconds: 30 * 86_400 });
  srv = await startTestServer({
    users: [{ address: "alice@example.test", password: "pw-alice-1" }],
    config: {
      hostname: HOST,
      listen: { ports: { http: httpPort } },
      dns: { servers: [dns.server] },
      acme: { enabled: true, directory: pebble.directory, caFile: pebble.caFile, httpPort },
    },
  });
  token = (await Bun.file(join(srv.dataDir, "admin.token")).text()).trim();
  rootFile = pemFile(join(srv.dataDir, "pebble-root.pem"), await pebble.root());
}, 30_000);

afterAll(async () => {
  await srv?.cleanup();
  await pebble?.stop();
  await dns?.close();
});

describe("acme with pebble", () => {
  test("every TLS listener serves the pebble certificate for the host name, by SNI and without", async () => {
    // node:tls listeners ask per handshake; 443 (Bun.serve) is swapped a moment later.
    for (const name of ["imaps", "submissions", "pop3s", "https"]) await until(async () => ((await leafOf(srv.port(name), HOST)).issuer.startsWith("Pebble") ? true : undefined));
    for (const name of ["imaps", "submissions", "pop3s", "https"]) {
      expect((await leafOf(srv.port(name), HOST)).issuer).toStartWith("Pebble Intermediate");
      expect((await leafOf(srv.port(name))).subject).toBe(HOST);
    }
    const mtaSts = await until(async () => {
      const l = await leafOf(srv.port("https"), "mta-sts.example.test");
      return l.subject === "mta-sts.example.test" ? l : undefined;
    });
    expect(mtaSts.issuer).toStartWith("Pebble");
  });

  test("openssl s_client verifies the chain against pebble's root on 993/465/995/443 and after STARTTLS on 25/587/143/110", async () => {
    const implicit = ["imaps", "submissions", "pop3s", "https"].map((n) => ({ n, port: srv.port(n) }));
    const starttls = [
      { n: "smtp", starttls: "smtp" as const },
      { n: "submission", starttls: "smtp" as const },
      { n: "imap", starttls: "imap" as const },
      { n: "pop3", starttls: "pop3" as const },
    ];
    for (const l of [...implicit, ...starttls]) {
      const r = await sClient({ port: srv.port(l.n), servername: HOST, caFile: rootFile, starttls: "starttls" in l ? l.starttls : undefined });
      if (!r.ok) throw new Error(`${l.n}: ${r.out.slice(-600)}`);
    }
  }, 60_000);

  test("a name that does not point at us is skipped by the self-check, never ordered; status says why", async () => {
    const st = await until(async () => {
      const r = (await (await api("/tls")).json()) as { acme: boolean; names: { name: string; state: string; lastError: string | null; issuer: string | null; renewAt: string | null }[] };
      return r.names.find((n) => n.name === "autoconfig.example.test" && n.state === "skipped") ? r : undefined;
    });
    expect(st.acme).toBe(true);
    const skipped = st.names.find((n) => n.name === "autoconfig.example.test")!;
    expect(skipped.lastError).toContain("does not point at this server");
    expect(skipped.issuer).toBeNull();
    const host = st.names.find((n) => n.name === HOST)!;
    expect(host.state).toBe("valid");
    expect(host.issuer).toStartWith("Pebble Intermediate");
    // Renewal at 2/3 of the 30-day lifetime, plus up to 1/18 of it.
    const renewIn = (Date.parse(host.renewAt!) - Date.now()) / 86_400_000;
    expect(renewIn).toBeGreaterThan(19);
    expect(renewIn).toBeLessThan(21.8);
    // The CLI reads the same status from the database.
    let out = "";
    const code = await main(["tls", "status", "--data", srv.dataDir], { out: (s: string) => void (out += s), err: () => {}, env: {} } as never);
    expect(code).toBe(0);
    expect(out).toContain(`${HOST}  valid  issuer: Pebble Intermediate`);
    expect(out).toContain("autoconfig.example.test  skipped");
    expect(out).toContain("last error: self-check:");
  });

  test("a forced renewal swaps the certificate for new connections, keeps the key, and an open IMAP IDLE stays connected", async () => {
    const before = await leafOf(srv.port("imaps"), HOST);
    const idle = new ImapFlow({
      host: "127.0.0.1",
      port: srv.port("imaps"),
      secure: true,
      tls: { rejectUnauthorized: false, servername: HOST } as object,
      auth: { user: "alice@example.test", pass: "pw-alice-1" },
      logger: false,
    });
    await idle.connect();
    const lock = await idle.getMailboxLock("INBOX");
    let closed = false;
    idle.on("close", () => (closed = true));
    const idling = idle.idle();
    await Bun.sleep(100);

    const r = await api("/tls/renew", { method: "POST", body: JSON.stringify({ names: [HOST] }) });
    expect(r.status).toBe(200);
    const after = await until(async () => {
      const l = await leafOf(srv.port("imaps"), HOST);
      return l.serial !== before.serial ? l : undefined;
    });
    expect(after.pubkey).toBe(before.pubkey);
    for (const name of ["submissions", "pop3s", "https"]) await until(async () => ((await leafOf(srv.port(name), HOST)).serial === after.serial ? true : undefined));
    const starttls = await sClient({ port: srv.port("imap"), servername: HOST, caFile: rootFile, starttls: "imap", extra: ["-showcerts"] });
    expect(starttls.ok).toBe(true);

    // The IDLE session opened before the swap is still there and answers.
    expect(closed).toBe(false);
    const status = await idle.status("INBOX", { messages: true });
    expect(status.messages).toBe(0);
    expect(closed).toBe(false);
    lock.release();
    await idle.logout();
    await idling.catch(() => {});
  }, 30_000);

  test("`kotakpos tls renew NAME` (CLI, database request) is picked up by the running server", async () => {
    const before = await leafOf(srv.port("pop3s"), "mta-sts.example.test");
    // The CLI reads the config file (the test server got its config in memory).
    await Bun.write(join(srv.dataDir, "renew.toml"), `hostname = "${HOST}"\n[acme]\nenabled = true\n`);
    let out = "";
    const code = await main(["tls", "renew", "mta-sts.example.test", "--data", srv.dataDir, "--config", join(srv.dataDir, "renew.toml")], {
      out: (s: string) => void (out += s),
      err: () => {},
      env: {},
    } as never);
    expect(code).toBe(0);
    expect(out).toContain("renewal requested for mta-sts.example.test");
    await until(async () => ((await leafOf(srv.port("pop3s"), "mta-sts.example.test")).serial !== before.serial ? true : undefined), 30_000);
  }, 40_000);

  test("the CA unreachable: a temporary failure, backoff from a minute, the old certificate stays", async () => {
    const before = await leafOf(srv.port("imaps"), HOST);
    await pebble.pause();
    try {
      const r = await api("/tls/renew", { method: "POST", body: JSON.stringify({ names: [HOST] }) });
      const st = ((await r.json()) as { names: { state: string; lastError: string; permanent: boolean; nextAttemptAt: string; failures: number }[] }).names[0]!;
      expect(st.state).toBe("valid");
      expect(st.permanent).toBe(false);
      expect(st.lastError).toStartWith("temporary failure:");
      const wait = Date.parse(st.nextAttemptAt) - Date.now();
      expect(wait).toBeGreaterThan(40_000);
      expect(wait).toBeLessThan(70_000 * 2 ** (st.failures - 1));
      expect((await leafOf(srv.port("imaps"), HOST)).serial).toBe(before.serial);
    } finally {
      await pebble.restart({});
    }
  }, 40_000);

  test("the CA refusing a renewal (rejectedIdentifier) keeps the old certificate and puts the reason in the status", async () => {
    const before = await leafOf(srv.port("imaps"), HOST);
    // The same CA URL, now refusing the host name.
    await pebble.restart({ blocklist: [HOST] });
    const r = await api("/tls/renew", { method: "POST", body: JSON.stringify({ names: [HOST] }) });
    const body = (await r.json()) as { names: { name: string; state: string; lastError: string; permanent: boolean; nextAttemptAt: string }[] };
    const st = body.names[0]!;
    expect(st.state, st.lastError).toBe("valid");
    expect(st.permanent, st.lastError).toBe(true);
    expect(st.lastError).toContain("refused by the CA");
    expect(st.lastError).toContain("forbidden by policy");
    expect(Date.parse(st.nextAttemptAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect((await leafOf(srv.port("imaps"), HOST)).serial).toBe(before.serial);
    expect((await leafOf(srv.port("https"), HOST)).serial).toBe(before.serial);
  }, 30_000);
});
