// The web console in real Chromium (playwright-core + Debian's chromium) against a server
// whose resolver is a test DNS server (public address, PTR, DNSBL zones and a "well-known
// MX" — Python's aiosmtpd — faked there): the setup wizard from token to done with a
// failing check turning green, the wizard refusing without its token and a second run,
// an admin creating users, TOTP and an app password used over IMAP (imapflow), CSRF-less
// POSTs refused, autoconfig/autodiscover XML, and exactly one alert for a health change.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as OTPAuth from "otpauth";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startAiosmtpd, type Aiosmtpd } from "../helpers/aiosmtpd.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { launchChromium, newContext, screenshot, screenshotBoth } from "../helpers/browser.ts";
import { imapLoginWorks } from "../helpers/imap-sessions.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// The browser's DOMParser (page.evaluate runs in Chromium; DOM types are not in our lib).
declare const DOMParser: new () => {
  parseFromString(
    s: string,
    type: string,
  ): {
    querySelector(s: string): { textContent: string | null } | null;
    querySelectorAll(s: string): Iterable<{ getAttribute(n: string): string | null; querySelector(s: string): { textContent: string | null } | null }>;
    documentElement: { nodeName: string; namespaceURI: string | null };
  };
};

const IP = "192.0.2.10";
const PTR_NAME = "10.2.0.192.in-addr.arpa";
const ADMIN = { address: "admin@example.test", password: "admin-password-1" };
const ALICE = { address: "alice@example.test", password: "alice-password-1" };

let dns: TestDns;
let mx: Aiosmtpd;
let srv: TestServer;
let browser: Browser;
let admin: BrowserContext;
let base: string;
let token: string;
const figures: Record<string, number> = {};
const pageBytes: Record<string, number> = {};
let t0 = 0;

beforeAll(async () => {
  dns = await startTestDns({
    "mx.example.test": { A: [IP] },
    // Spamhaus refuses queries from public resolvers with 127.255.255.254: "could not check".
    "10.2.0.192.zen.spamhaus.org": { A: ["127.255.255.254"] },
    "probe.test": { MX: [{ exchange: "mx.probe.test", priority: 10 }] },
    "mx.probe.test": { A: ["127.0.0.1"] },
  });
  mx = await startAiosmtpd();
  browser = await launchChromium();
  t0 = performance.now();
  srv = await startTestServer({
    domains: [],
    config: {
      hostname: "mx.example.test",
      dns: { servers: [dns.server], timeout: "2s" },
      delivery: { port: mx.port },
      console: { probeDomain: "probe.test", dnsblsV4: ["zen.spamhaus.org", "bl.spamcop.net"], dnsblsV6: ["zen.spamhaus.org"], domainBls: [], checkTimeout: "3s" },
    } as never,
  });
  base = `https://127.0.0.1:${srv.port("https")}`;
  admin = await newContext(browser);
});

afterAll(async () => {
  await browser?.close();
  await srv?.cleanup();
  await mx?.stop();
  await dns?.close();
  mkdirSync(".test-results", { recursive: true });
  writeFileSync(join(".test-results", "console-figures.json"), JSON.stringify({ ...figures, pageBytes }, null, 2) + "\n");
});

/** Screenshot the page at desktop width and the same URL at phone width (same cookies). */
let shootMs = 0;
async function shoot(page: Page, name: string): Promise<void> {
  const t = performance.now();
  await shoot2(page, name);
  shootMs += performance.now() - t;
}
async function shoot2(page: Page, name: string): Promise<void> {
  pageBytes[name] = await screenshotBoth(page, name);
}

test("/setup without the token or with a wrong one is 403 and shows nothing else", async () => {
  for (const path of ["/setup", "/setup?token=wrong", "/setup?token=&step=account"]) {
    const r = await fetch(base + path, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(r.status).toBe(403);
    expect(await r.text()).not.toContain("<form");
  }
  token = readFileSync(join(srv.dataDir, "setup.token"), "utf8").trim();
  expect(token.length).toBeGreaterThan(20);
});

test("the wizard goes from token to done; the PTR check turns green after the zone is fixed", async () => {
  const page = await admin.newPage();
  const url = (step: string) => `${base}/setup?token=${token}&step=${step}`;
  await page.goto(`${base}/setup?token=${token}`);
  // Step 1: the host name; the public address is corrected by hand (no public interface here).
  await page.fill("#addresses", IP);
  await page.click("text=Save");
  expect(await page.locator('[data-check="hostname"] > .head .pill').textContent()).toBe("pass");
  await shoot(page, "setup-1-hostname");

  // Step 2: reverse DNS is missing → fail, with the note about the hosting provider.
  await page.goto(url("ptr"));
  expect(await page.locator('[data-check="ptr"] > .head .pill').textContent()).toBe("fail");
  expect(await page.locator('[data-check="ptr"] .fix').textContent()).toContain("hosting provider");
  await shoot(page, "setup-2-ptr-fail");
  dns.set(PTR_NAME, { PTR: ["mx.example.test"] });
  await page.click("[data-recheck]");
  expect(await page.locator('[data-check="ptr"] > .head .pill').textContent()).toBe("pass");
  await shoot(page, "setup-2-ptr-pass");

  // Step 3: port 25 reaches the "well-known MX" (aiosmtpd); Spamhaus's 127.255.255.254 is
  // "could not check", not a listing; IPv6 is checked apart (no IPv6 address here).
  await page.goto(url("outbound"));
  expect(await page.locator('[data-check="port25"] > .head .pill').textContent()).toBe("pass");
  expect(await page.locator('[data-check="dnsbl-ipv4"] > .head .pill').textContent()).toBe("could not check");
  expect(await page.locator('[data-check="dnsbl-ipv4"]').textContent()).not.toContain("listed (");
  expect(await page.locator('[data-check="dnsbl-ipv6"] > .head .pill').textContent()).toBe("pass");
  await shoot(page, "setup-3-outbound");

  // Step 4: the first domain and account (an admin).
  await page.goto(url("account"));
  await shoot(page, "setup-4-account");
  await page.fill("#local", "admin");
  await page.fill("#domain", "example.test");
  await page.fill("#password", ADMIN.password);
  await page.fill("#password2", ADMIN.password);
  await page.click("text=Create domain and account");
  await page.waitForURL(/step=dns/);

  // Step 5: the DNS records, expected vs actual, with copy buttons.
  const records = page.locator('[data-check="dns:example.test"]');
  expect(await records.locator("tbody tr").count()).toBeGreaterThanOrEqual(5);
  expect(await records.locator("[data-copy]").count()).toBeGreaterThanOrEqual(5);
  expect(await records.textContent()).toContain("v=spf1 mx -all");
  await shoot(page, "setup-5-dns");

  // Step 6: the certificate (self-signed here: no ACME authority in this test).
  await page.goto(url("tls"));
  expect(await page.locator('[data-check="tls"] > .head .pill').textContent()).toBe("warning");
  expect(await page.textContent("main")).toContain("self-signed");
  await shoot(page, "setup-6-tls");

  // Step 7: the settings for a mail app, QR code, .mobileconfig, a test message; then finish.
  await page.goto(url("finish"));
  expect(await page.locator(".qr svg").count()).toBe(1);
  await page.click("text=Send me a test message");
  expect(await page.textContent(".notice")).toContain("inbox");
  const acct = await srv.core.store.getAccount(ADMIN.address);
  const inbox = await srv.core.store.getMailbox(acct!.id, "INBOX");
  expect((await srv.core.store.messages(inbox!.id)).map((m) => m.subject)).toContain("Test message from kotakpos");
  await shoot(page, "setup-7-finish");
  await page.click("text=Finish setup");
  await page.waitForURL(/\/admin\?setup=done/);
  expect(await page.textContent(".notice")).toContain("Setup is finished");
  figures.setupMs = Math.round(performance.now() - t0);
  figures.setupMsWithoutScreenshots = Math.round(performance.now() - t0 - shootMs);
  await shoot(page, "admin-dashboard");
  await page.close();
});

test("the wizard cannot run a second time", async () => {
  expect(existsSync(join(srv.dataDir, "setup.token"))).toBe(false);
  const page = await admin.newPage();
  const r = await page.goto(`${base}/setup?token=${token}`);
  expect(r!.status()).toBe(403);
  const post = await page.request.post(`${base}/setup/account?token=${token}`, { form: { local: "evil", domain: "evil.test", password: "x".repeat(12), password2: "x".repeat(12) } });
  expect(post.status()).toBe(403);
  expect(await srv.core.store.getAccount("evil@evil.test")).toBeNull();
  await page.close();
});

test("an admin creates two users", async () => {
  const page = await admin.newPage();
  await page.goto(`${base}/admin/accounts`);
  for (const [local, pw] of [
    ["alice", ALICE.password],
    ["bob", "bob-password-12"],
  ] as const) {
    await page.fill("#local", local);
    await page.fill("#password", pw);
    await page.click("text=Add account");
    expect(await page.textContent(".notice")).toContain(`${local}@example.test created`);
  }
  expect(await page.locator("#accounts").textContent()).toContain("bob@example.test");
  expect(await srv.core.store.verifyPassword("alice@example.test", ALICE.password)).not.toBeNull();
  await shoot(page, "admin-accounts");
  // Aliases (the aliases plugin's API behind the page) and DKIM rotation (mailauth's).
  await page.goto(`${base}/admin/aliases`);
  await page.fill("#address", "info@example.test");
  await page.fill("#targets", "alice@example.test, bob@example.test");
  await page.selectOption("#kind", "group");
  await page.click("button:has-text('Add')");
  expect(await page.textContent(".notice")).toContain("info@example.test added");
  expect(await page.locator("#aliases").textContent()).toContain("alice@example.test, bob@example.test");
  await shoot(page, "admin-aliases");
  await page.goto(`${base}/admin/domains/example.test/dkim`);
  expect(await page.locator("#dkim-keys tbody tr").count()).toBe(2);
  await page.click("button:has-text('1. Make new keys')");
  expect(await page.textContent(".notice")).toContain("New keys made");
  expect(await page.locator("#dkim-keys .pill.warn").count()).toBe(2);
  await shoot(page, "admin-dkim");
  for (const path of ["/admin/domains", "/admin/domains/example.test", "/admin/queue", "/admin/activity", "/admin/tls"]) {
    await page.goto(base + path);
    await shoot(page, "admin" + path.replaceAll("/", "-").replace("-admin", "").replace(/\./g, "_"));
  }
  await page.close();
});

const imapLogin = (user: string, pass: string) => imapLoginWorks(srv, user, pass);

test("a user turns on TOTP and an app password; IMAP takes the app password, refuses the main one", async () => {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await shoot(page, "login");
  await page.fill("#address", ALICE.address);
  await page.fill("#password", ALICE.password);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(/\/account$/);
  expect(await imapLogin(ALICE.address, ALICE.password)).toBe(true);

  await page.click("text=Turn on two-factor login");
  const secret = (await page.textContent("#totp-secret"))!.trim();
  // the QR code (uqr, loaded on first use) holds the otpauth:// URI
  expect(await page.locator(".qr svg").count()).toBe(1);
  await shoot(page, "account-totp");
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  await page.fill("#code", "000000" === totp.generate() ? "111111" : "000000");
  await page.click("button:has-text('Turn on')");
  expect(await page.textContent(".notice")).toContain("not right");
  await page.goto(`${base}/account/totp`);
  const secret2 = (await page.textContent("#totp-secret"))!.trim();
  const totp2 = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret2), digits: 6, period: 30, algorithm: "SHA1" });
  await page.fill("#code", totp2.generate());
  await page.click("button:has-text('Turn on')");
  expect(await page.locator("#recovery-codes li").count()).toBe(8);

  await page.fill("#appname", "Thunderbird");
  await page.click("button:has-text('Create')");
  const appPassword = (await page.textContent("#new-secret"))!.trim();
  expect(appPassword).toMatch(/^[a-z]{4}-[a-z]{4}-[a-z]{4}-[a-z]{4}$/);
  await screenshot(page, "account-app-password"); // a POST's answer: desktop only

  expect(await imapLogin(ALICE.address, appPassword)).toBe(true);
  expect(await imapLogin(ALICE.address, ALICE.password)).toBe(false);
  await page.goto(`${base}/account`);
  expect(await page.locator("#app-passwords").textContent()).not.toContain("never");
  await shoot(page, "account");

  // The web login now asks for a code (one from the next step: a code is used only once).
  await page.click("button:has-text('Log out')");
  await page.fill("#address", ALICE.address);
  await page.fill("#password", ALICE.password);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(/\/login\/totp/);
  await shoot(page, "login-totp");
  await page.fill("#code", totp2.generate({ timestamp: Date.now() + 30_000 }));
  await page.click("button:has-text('Verify')");
  await page.waitForURL(/\/account$/);
  // A plain user does not get the admin pages.
  const r = await page.goto(`${base}/admin`);
  expect(r!.status()).toBe(403);
  await ctx.close();
});

test("POSTs without the CSRF token are refused; http.auth gives the session and its token", async () => {
  const cookies = await admin.cookies();
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const opts = { tls: { rejectUnauthorized: false } } as RequestInit;
  for (const path of ["/admin/accounts", "/account/app-passwords", "/login", "/logout"]) {
    const r = await fetch(base + path, {
      ...opts,
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "local=mallory&domain=example.test&password=long-password-1&name=x",
      redirect: "manual",
    });
    expect(r.status).toBe(403);
  }
  expect(await srv.core.store.getAccount("mallory@example.test")).toBeNull();
  const who = await srv.core.hooks.first("http.auth", new Request(base + "/jmap", { headers: { cookie } }));
  expect(who).toMatchObject({ kind: "user", admin: true, user: { address: ADMIN.address } });
  expect(await srv.core.hooks.first("http.auth", new Request(base + "/jmap"))).toEqual({ kind: "pass" });
  const session = (await (await fetch(`${base}/account/session.json`, { ...opts, headers: { cookie } })).json()) as { address: string; csrf: string };
  expect(session).toEqual({ address: ADMIN.address, admin: true, csrf: (who as { csrf: string }).csrf } as never);
  expect((await fetch(`${base}/account/session.json`, opts)).status).toBe(401);
  // The admin API takes an admin's session; a write needs the X-CSRF-Token header.
  const csrf = (who as { csrf: string }).csrf;
  const post = (h: Record<string, string>) =>
    fetch(`${base}/api/admin/domains`, { ...opts, method: "POST", headers: { cookie, "content-type": "application/json", ...h }, body: JSON.stringify({ name: "second.test" }) });
  expect((await post({})).status).toBe(403);
  expect((await post({ "x-csrf-token": csrf })).status).toBe(201);
  expect((await fetch(`${base}/api/admin/domains`, opts)).status).toBe(401);
});

test("autoconfig and autodiscover XML are valid and name the right ports", async () => {
  const page = await admin.newPage();
  await page.goto(`${base}/login`);
  const parse = (xml: string) =>
    page.evaluate((x) => {
      const d = new DOMParser().parseFromString(x, "application/xml");
      if (d.querySelector("parsererror")) return { error: d.querySelector("parsererror")!.textContent };
      const ports = (sel: string) => [...d.querySelectorAll(sel)].map((e) => `${e.getAttribute("type") ?? e.querySelector("Type")?.textContent}:${e.querySelector("port, Port")?.textContent}`);
      return {
        root: d.documentElement.nodeName,
        ns: d.documentElement.namespaceURI,
        servers: ports("incomingServer, outgoingServer, Protocol"),
        host: d.querySelector("hostname, Server")?.textContent,
      };
    }, xml);
  const opts = { tls: { rejectUnauthorized: false } } as RequestInit;
  for (const path of ["/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test", "/mail/config-v1.1.xml?emailaddress=alice%40example.test"]) {
    const r = await fetch(base + path, opts);
    expect(r.headers.get("content-type")).toContain("xml");
    const x = await parse(await r.text());
    expect(x).toEqual({ root: "clientConfig", ns: null, servers: ["imap:993", "pop3:995", "smtp:465", "smtp:587"], host: "mx.example.test" });
  }
  const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@example.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
  const ad = await fetch(`${base}/autodiscover/autodiscover.xml`, { ...opts, method: "POST", body, headers: { "content-type": "text/xml" } });
  expect(await parse(await ad.text())).toEqual({
    root: "Autodiscover",
    ns: "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
    servers: ["IMAP:993", "POP3:995", "SMTP:465"],
    host: "mx.example.test",
  });
  const mc = await fetch(`${base}/autoconfig/mobileconfig?email=alice%40example.test`, opts);
  expect(mc.headers.get("content-type")).toBe("application/x-apple-aspen-config");
  expect((await parse(await mc.text())).root).toBe("plist");
  expect((await fetch(`${base}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=x%40elsewhere.test`, opts)).status).toBe(404);
  await page.close();
});

test("a health check that changes sends exactly one alert message", async () => {
  const page = await admin.newPage();
  await page.goto(`${base}/admin/health`);
  await page.click("text=Run the checks now"); // the baseline (setup's own run may still be going)
  const inbox = async () => {
    const acct = await srv.core.store.getAccount(ADMIN.address);
    const mb = await srv.core.store.getMailbox(acct!.id, "INBOX");
    return srv.core.store.messages(mb!.id);
  };
  const before = (await inbox()).length;
  dns.zone.delete(PTR_NAME); // the PTR record is gone
  await page.click("text=Run the checks now");
  expect(await page.locator('[data-check="ptr"] > .head .pill').textContent()).toBe("fail");
  await page.click("text=Run the checks now"); // nothing changed since: no second message
  const msgs = await inbox();
  expect(msgs.length).toBe(before + 1);
  const raw = new TextDecoder().decode(await srv.core.store.read(msgs.at(-1)!));
  expect(raw).toContain("Subject: [kotakpos] 1 health check changed");
  expect(raw).toContain("Reverse DNS (PTR): pass -> fail");
  expect(raw).not.toContain("Outbound port 25");
  await shoot(page, "admin-health");
  await page.close();
  figures.largestPageKB = Math.round((Math.max(...Object.values(pageBytes)) / 1024) * 10) / 10;
  figures.assetsKB = Math.round(((await (await fetch(`${base}/console/console.css`, { tls: { rejectUnauthorized: false } } as RequestInit)).text()).length / 1024) * 10) / 10;
});

test("web logins share the core's limiter: after too many failures the login is refused, IMAP too", async () => {
  const opts = { tls: { rejectUnauthorized: false } } as RequestInit;
  const get = await fetch(`${base}/login`, opts);
  const cookie = get.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await get.text())![1]!;
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    const r = await fetch(`${base}/login`, {
      ...opts,
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, address: "bob@example.test", password: `wrong-${i}` }),
      redirect: "manual",
    });
    statuses.push(r.status);
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses[10]).toBe(429);
  // The same limiter guards IMAP from this address (the right password is refused now).
  expect(await imapLogin("bob@example.test", "bob-password-12")).toBe(false);
});
