// "Import from another server" on the account page, in real Chromium: a user copies their
// old account from Debian's Dovecot (started here on loopback), watches the progress live
// (the page polls; the bar and counts move), gets the report whose counts add up, and a
// second run copies nothing twice. A wrong password is reported in words.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { withDovecot } from "../../scripts/bench/lib/dovecot.ts";
import { launchChromium, newContext, screenshot, screenshotBoth } from "../helpers/browser.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const HAVE = Boolean(Bun.which("/usr/sbin/dovecot"));
const ALICE = { address: "alice@example.test", password: "alice-password-1" };
const OLD = { user: "olduser", password: "old-pw" };
const COUNT = 3000;

let srv: TestServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let base: string;
let dovecotPort = 0;
let release: () => void = () => {};
let running: Promise<unknown> = Promise.resolve();

const message = (i: number) =>
  `From: friend${i % 9}@old.test\r\nTo: ${OLD.user}@old.test\r\nSubject: old message ${i}\r\nMessage-ID: <old${i}@old.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${"some words of an old letter\r\n".repeat(30)}`;

beforeAll(async () => {
  if (!HAVE) return;
  let ready: (p: number) => void = () => {};
  const started = new Promise<number>((r) => (ready = r));
  running = withDovecot(
    {
      protocol: "imap",
      users: [OLD.user],
      password: OLD.password,
      messages: () => Array.from({ length: COUNT }, (_, i) => [`${1700000000 + i}.M${i}P1.old:2,${i % 3 ? "S" : ""}`, message(i)] as [string, string]),
    },
    async (port) => {
      ready(port);
      await new Promise<void>((r) => (release = r));
    },
  );
  dovecotPort = await Promise.race([started, running.then((r) => Promise.reject(new Error(`dovecot: ${JSON.stringify(r)}`)))]);
  srv = await startTestServer({ users: [ALICE] });
  base = `https://127.0.0.1:${srv.port("https")}`;
  browser = await launchChromium();
  ctx = await newContext(browser);
  page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.fill("#address", ALICE.address);
  await page.fill("#password", ALICE.password);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(/\/account$/);
}, 60_000);

afterAll(async () => {
  release();
  await running;
  await browser?.close();
  await srv?.cleanup();
});

async function fillSource(password: string): Promise<void> {
  await page.goto(`${base}/account`);
  await page.click("text=Import from another server");
  await page.waitForURL(/\/account\/import$/);
  await page.fill("#host", "127.0.0.1");
  await page.selectOption("#security", "starttls");
  await page.fill("#port", String(dovecotPort));
  await page.fill("#username", OLD.user);
  await page.fill("#oldpw", password);
}

const inboxCount = async () => {
  const a = (await srv.core.store.getAccount(ALICE.address))!;
  return (await srv.core.store.messages((await srv.core.store.getMailbox(a.id, "INBOX"))!.id)).length;
};

test.skipIf(!HAVE)(
  "a bad form and a wrong password are said in words",
  async () => {
    await fillSource("x");
    await page.fill("#host", "not a host!");
    await page.click("button:has-text('Start the import')");
    expect(await page.textContent(".notice.error")).toContain("IMAP host name");

    await fillSource("not-the-password");
    await page.click("button:has-text('Start the import')");
    await page.waitForURL(/job=/);
    await page.waitForSelector("#import-progress [data-field=state]:has-text('Stopped')", { timeout: 20_000 });
    expect(await page.textContent("#import-progress [data-field=state]")).toMatch(/Stopped: .*(login|auth|LOGIN|AUTHENTICATIONFAILED|credentials)/i);
    expect(await inboxCount()).toBe(0);
  },
  60_000,
);

test.skipIf(!HAVE)(
  "the old account comes over with live progress; the report adds up; a second run copies nothing twice",
  async () => {
    await fillSource(OLD.password);
    await screenshot(page, "account-import");
    await page.click("button:has-text('Start the import')");
    await page.waitForURL(/job=/);
    const jobUrl = page.url();
    // Live: the counts change on the page while the import runs (no reload: the script polls).
    const seen = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await page.locator("#import-report").count())) {
      const found = await page
        .locator("[data-field=found]")
        .textContent()
        .catch(() => null);
      if (found) seen.add(found);
      if (seen.size === 2) await screenshot(page, "account-import-progress");
      await Bun.sleep(150);
    }
    expect([...seen].some((s) => s.endsWith(`of ${COUNT}`) && !s.startsWith(`${COUNT} `))).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    const report = await page.textContent("#import-report .notice");
    expect(report).toContain(`Found ${COUNT} = copied ${COUNT} + skipped 0 + already here 0`);
    expect(await inboxCount()).toBe(COUNT);
    expect(await page.getAttribute("#import-bar", "value")).toBe("1");
    await screenshotBoth(page, "account-import-done", jobUrl);

    // Again (as at the switch): everything is already here.
    await fillSource(OLD.password);
    await page.click("button:has-text('Start the import')");
    await page.waitForSelector("#import-report", { timeout: 60_000 });
    expect(await page.textContent("#import-report .notice")).toContain(`Found ${COUNT} = copied 0 + skipped 0 + already here ${COUNT}`);
    expect(await inboxCount()).toBe(COUNT);
  },
  120_000,
);

test.skipIf(!HAVE)("another user cannot follow or stop someone's import", async () => {
  const other = await newContext(browser);
  const p = await other.newPage();
  await srv.core.store.createAccount("mallory@example.test", "mallory-password-1");
  await p.goto(`${base}/login`);
  await p.fill("#address", "mallory@example.test");
  await p.fill("#password", "mallory-password-1");
  await p.click("button:has-text('Log in')");
  await p.waitForURL(/\/account$/);
  const r = await p.request.get(`${base}/account/import/status?job=j1`);
  expect(r.status()).toBe(404);
  await p.goto(`${base}/account/import?job=j1`);
  expect(await p.textContent(".notice.error")).toContain("not yours");
  await other.close();
});
