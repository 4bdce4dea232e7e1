// The setup wizard where port 25 is blocked and the certificate comes from ACME, in real
// Chromium: the outbound step offers the smarthost; its "Test" button runs the check of
// `kotakpos relay test` against aiosmtpd with STARTTLS and AUTH (a relay others wrote) —
// a wrong password is refused in words, the right one is saved (password file 0600, the
// config file, the live config). The certificate step gets a certificate from Debian's
// pebble (a real ACME server); then plain HTTP moves console pages to HTTPS, but not
// ACME challenges or autoconfig.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { freePort, waitPort } from "../helpers/aiosmtpd.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { launchChromium, newContext, screenshotBoth } from "../helpers/browser.ts";
import { startPebble, type Pebble } from "../helpers/pebble.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const HOST = "mx.example.test";
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-wizard-"));
const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-wizard-data-"));
let dns: TestDns;
let pebble: Pebble;
let srv: TestServer;
let relay: Bun.Subprocess;
let relayPort = 0;
let httpPort = 0;
let httpsPort = 0;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let token = "";
const base = () => `https://127.0.0.1:${httpsPort}`;
const step = (s: string) => `${base()}/setup?token=${token}&step=${s}`;

beforeAll(async () => {
  dns = await startTestDns({
    // At first the host name points elsewhere: ACME's self-check skips it, nothing is ordered.
    [HOST]: { A: ["192.0.2.1"] },
    "relay.test": { A: ["127.0.0.1"] },
    // The "well-known MX" of the port-25 check listens nowhere: port 25 is blocked.
    "probe.test": { MX: [{ exchange: "mx.probe.test", priority: 10 }] },
    "mx.probe.test": { A: ["127.0.0.1"] },
  });
  const cert = join(tmp, "relay-cert.pem");
  const key = join(tmp, "relay-key.pem");
  await $`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=relay.test -addext subjectAltName=DNS:relay.test -keyout ${key} -out ${cert}`.quiet();
  relayPort = await freePort();
  relay = Bun.spawn(["/usr/bin/python3", join(import.meta.dir, "..", "delivery", "relay.py"), String(relayPort), tmp, String(await freePort()), "relayuser", "relay-secret", cert, key], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  await waitPort(relayPort, relay);
  httpPort = await freePort();
  httpsPort = await freePort();
  pebble = await startPebble({ httpPort, tlsPort: await freePort(), dnsServer: dns.server });
  // A config file in the data directory, as `serve` writes at first start.
  writeFileSync(join(dataDir, "kotakpos.toml"), `# kotakpos configuration\nhostname = "${HOST}"\n`);
  srv = await startTestServer({
    domains: [],
    dataDir,
    config: {
      hostname: HOST,
      listen: { ports: { http: httpPort, https: httpsPort } },
      dns: { servers: [dns.server], timeout: "2s" },
      // The relay's self-signed certificate is trusted as a private CA (delivery.relay.caFile).
      delivery: { port: await freePort(), relay: { caFile: cert } },
      acme: { enabled: true, directory: pebble.directory, caFile: pebble.caFile, httpPort },
      console: { probeDomain: "probe.test", dnsblsV4: [], dnsblsV6: [], domainBls: [], checkTimeout: "2s" },
    } as never,
  });
  token = readFileSync(join(dataDir, "setup.token"), "utf8").trim();
  browser = await launchChromium();
  ctx = await newContext(browser);
  page = await ctx.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.cleanup();
  relay?.kill();
  await relay?.exited;
  await pebble?.stop();
  await dns?.close();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const shoot = (name: string, url?: string) => screenshotBoth(page, name, url);

test("port 25 blocked: the wizard offers the smarthost; Test says what fails, then it is saved and used", async () => {
  await page.goto(step("outbound"));
  expect(await page.locator('[data-check="port25"] > .head .pill').textContent()).toBe("fail");
  expect(await page.textContent("#relay")).toContain("blocks outbound port 25");

  await page.selectOption("#preset", "custom");
  await page.fill("#relay-url", `smtp://relay.test:${relayPort}`);
  await page.fill("#relay-user", "relayuser");
  await page.fill("#relay-pw", "wrong-secret");
  await page.click("button:has-text('Test')");
  await page.waitForURL(/relay=1/);
  expect(await page.textContent("#relay-result")).toContain("The relay cannot be used");
  expect(await page.textContent("#relay-result")).toMatch(/535|auth/i);
  expect(srv.core.config.delivery.relay.url).toBe("");

  await page.fill("#relay-pw", "relay-secret");
  await page.click("button:has-text('Test and use it')");
  await page.waitForURL(/relay=1/);
  const result = await page.textContent("#relay-result");
  expect(result).toContain("Saved: outbound mail goes through the relay now");
  expect(result).toContain(`ok: relay.test:${relayPort} (127.0.0.1) — STARTTLS, certificate verified, logged in as relayuser`);
  await shoot("setup-3-relay");
  // Used now (the live config) and after a restart (the config file); the password apart.
  expect(srv.core.config.delivery.relay).toMatchObject({ url: `smtp://relay.test:${relayPort}`, username: "relayuser", passwordFile: join(dataDir, "relay.password") });
  expect(readFileSync(join(dataDir, "relay.password"), "utf8")).toBe("relay-secret\n");
  expect(statSync(join(dataDir, "relay.password")).mode & 0o777).toBe(0o600);
  const toml = readFileSync(join(dataDir, "kotakpos.toml"), "utf8");
  expect(Bun.TOML.parse(toml)).toMatchObject({ hostname: HOST, delivery: { relay: { url: `smtp://relay.test:${relayPort}`, username: "relayuser", passwordFile: join(dataDir, "relay.password") } } });
  expect(toml).not.toContain("relay-secret");
  // From now on a blocked port 25 is no problem (the health checks say so too).
  await page.goto(step("outbound"));
  expect(await page.locator('[data-check="port25"] > .head .pill').textContent()).toBe("pass");
  expect(await page.textContent('[data-check="port25"]')).toContain(`goes through the relay smtp://relay.test:${relayPort}`);
}, 60_000);

test("the certificate step gets a certificate from pebble (ACME); then HTTP moves console pages to HTTPS", async () => {
  // Plain HTTP while the certificate is self-signed: no redirect yet.
  const before = await fetch(`http://127.0.0.1:${httpPort}/login`, { redirect: "manual" });
  expect(before.status).toBe(200);

  await page.goto(step("address"));
  await page.fill("#addresses", "127.0.0.1");
  await page.click("text=Save");
  expect(await page.locator('[data-check="hostname"] > .head .pill').textContent()).toBe("fail");
  await page.goto(step("tls"));
  expect(await page.textContent("main")).toContain("does not resolve to this server yet");
  // The user fixes the A record at the DNS host; step 1 turns green.
  dns.set(HOST, { A: ["127.0.0.1"] });
  await page.goto(step("address"));
  expect(await page.locator('[data-check="hostname"] > .head .pill').textContent()).toBe("pass");
  await page.goto(step("tls"));
  expect(await page.textContent("main")).toContain("resolves to this server");
  await page.click("button:has-text('Get certificates now')");
  await page.waitForURL(/acme=/);
  expect(await page.textContent(".notice")).toContain("Ordered");
  // Re-check until the certificate in use is pebble's (the progress is in the table).
  const deadline = Date.now() + 45_000;
  for (;;) {
    const pill = await page.locator('[data-check="tls"] > .head .pill').textContent();
    if (pill === "pass") break;
    if (Date.now() > deadline) throw new Error(`no ACME certificate: ${await page.textContent("main")}`);
    await Bun.sleep(500);
    await page.click("[data-recheck]");
  }
  expect(await page.textContent('[data-check="tls"]')).toContain("issued by Pebble");
  expect(await page.textContent("main")).toMatch(new RegExp(`${HOST.replace(/\./g, "\\.")}[\\s\\S]*(valid|issued)`, "i"));
  await shoot("setup-6-tls-acme", step("tls"));

  // The first look at a console page over HTTP after the certificate: 301 to HTTPS.
  const r = await fetch(`http://127.0.0.1:${httpPort}/login?next=%2Fadmin`, { redirect: "manual" });
  expect(r.status).toBe(301);
  expect(r.headers.get("location")).toBe(`https://127.0.0.1:${httpsPort}/login?next=%2Fadmin`);
  const setup = await fetch(`http://127.0.0.1:${httpPort}/setup?token=x`, { redirect: "manual" });
  expect(setup.status).toBe(301);
  // Not for ACME challenges (port 80 must answer them) nor for autoconfig.
  expect((await fetch(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/nothing`, { redirect: "manual" })).status).toBe(404);
  await srv.core.store.addDomain("example.test");
  const ac = await fetch(`http://127.0.0.1:${httpPort}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%40example.test`, { redirect: "manual" });
  expect(ac.status).toBe(200);
  // Chromium follows the redirect to the HTTPS page.
  const p = await ctx.newPage();
  await p.goto(`http://127.0.0.1:${httpPort}/login`);
  expect(p.url()).toBe(`https://127.0.0.1:${httpsPort}/login`);
  expect(await p.textContent("h1")).toBe("Log in");
  await p.close();
}, 90_000);
