// The webmail in real Chromium (playwright-core + Debian's chromium), on the JMAP API:
// log in, a message sent over SMTP appears live, open it, reply with an attachment that
// the other user sees arrive live and downloads byte for byte, search, move to a folder
// and back, a draft that survives a reload, a hostile HTML message that runs nothing and
// loads nothing until images are allowed, and another user's message out of reach.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newContext, PHONE, screenshot } from "../helpers/browser.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { pySend } from "../helpers/smtp.ts";

// The page's DOM as the browser-side callbacks use it (page.evaluate runs in Chromium).
declare const document: { querySelector(sel: string): { content: string; textContent: string | null } | null; querySelectorAll(sel: string): ArrayLike<unknown> };

const ALICE = { address: "alice@example.test", password: "alice-password-1" };
const BOB = { address: "bob@example.test", password: "bob-password-1" };
const tmp = mkdtempSync(join(tmpdir(), "kotakpos-webmail-"));
let srv: TestServer;
let browser: Browser;
let base: string;
/** Requests that reached the "tracker" (a remote image/CSS host of the hostile message). */
const tracked: string[] = [];
let tracker: ReturnType<typeof Bun.serve>;
const figures: Record<string, number> = {};

beforeAll(async () => {
  tracker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (tracked.push(new URL(req.url).pathname), new Response("x", { headers: { "content-type": "image/png" } })) });
  srv = await startTestServer({ users: [ALICE, BOB], config: { plugins: { disabled: ["mailauth"] } } });
  base = `https://127.0.0.1:${srv.port("https")}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await srv?.cleanup();
  tracker?.stop(true);
  mkdirSync(".test-results", { recursive: true });
  writeFileSync(join(".test-results", "webmail-figures.json"), JSON.stringify(figures, null, 2) + "\n");
  rmSync(tmp, { recursive: true, force: true });
});

async function login(user: { address: string; password: string }, viewport?: { width: number; height: number }): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await newContext(browser, viewport);
  const page = await ctx.newPage();
  await page.goto(`${base}/mail/`);
  await page.waitForURL(/\/login\?next=/);
  await page.fill("#address", user.address);
  await page.fill("#password", user.password);
  await page.click("button:has-text('Log in')");
  await page.waitForURL(/\/mail\/$/);
  await page.waitForSelector("body.ready");
  return { ctx, page };
}

const smtp = (from: string, to: string, msg: string) => pySend(srv.port("smtp"), { from, to: [to], msg });

async function shoot(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
}

test("log in, live arrival, read, reply with an attachment that the other user downloads byte for byte", async () => {
  const a = await login(ALICE);
  const b = await login(BOB);
  // first load: bytes and time to a usable list
  const t0 = performance.now();
  let bytes = 0;
  const fresh = await (await newContext(browser)).newPage();
  fresh.on("response", async (r) => {
    const len = Number(r.headers()["content-length"] ?? 0) || (await r.body().catch(() => Buffer.alloc(0))).length;
    bytes += len;
  });
  await fresh.context().addCookies(await a.ctx.cookies());
  await fresh.goto(`${base}/mail/`);
  await fresh.waitForSelector("#messages li");
  figures.firstLoadMs = Math.round(performance.now() - t0);
  figures.firstLoadKB = Math.round(bytes / 1024);
  await fresh.context().close();

  // Bob writes to Alice over SMTP: it appears in her open list without a reload
  const sent = performance.now();
  expect(
    (await smtp(BOB.address, ALICE.address, `From: Bob <${BOB.address}>\r\nTo: ${ALICE.address}\r\nSubject: Lunch on Friday?\r\n\r\nShall we meet at noon?\r\nhttps://example.test/menu\r\n`)).ok,
  ).toBe(true);
  await a.page.waitForSelector("#messages li.msg.unread:has-text('Lunch on Friday?')", { timeout: 15_000 });
  figures.smtpToWebmailMs = Math.round(performance.now() - sent);
  await shoot(a.page, "webmail-inbox");
  await a.page.click("#messages li.msg:has-text('Lunch on Friday?') .row");
  await a.page.waitForSelector(".reader h1.subject:has-text('Lunch on Friday?')");
  expect(await a.page.textContent(".mail-text")).toContain("Shall we meet at noon?");
  expect(await a.page.getAttribute(".mail-text a", "href")).toBe("https://example.test/menu");
  await shoot(a.page, "webmail-read");

  // reply with an attachment
  const file = join(tmp, "agenda.bin");
  const payload = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
  writeFileSync(file, payload);
  await a.page.click(".reader .tools button:has-text('Reply')");
  await a.page.waitForSelector("form.composer");
  expect(await a.page.inputValue("#c-to")).toContain(BOB.address);
  expect(await a.page.inputValue("#c-subject")).toBe("Re: Lunch on Friday?");
  await a.page.fill("#c-body", "Noon works. Agenda attached.\n\n" + (await a.page.inputValue("#c-body")));
  await a.page.setInputFiles("#c-files", file);
  await a.page.waitForSelector("form.composer .attachments li:has-text('agenda.bin')");
  await a.page.waitForFunction(() => !document.querySelector("form.composer .attachments")?.textContent?.includes("%"));
  await shoot(a.page, "webmail-compose");
  await a.page.click("form.composer button[type=submit]");
  await a.page.waitForSelector("#toast.show:has-text('Sent.')");

  // Bob sees it arrive live, opens it, downloads the attachment: the same bytes
  await b.page.waitForSelector("#messages li.msg:has-text('Re: Lunch on Friday?')", { timeout: 15_000 });
  await b.page.click("#messages li.msg:has-text('Re: Lunch on Friday?') .row");
  await b.page.waitForSelector(".attachments a:has-text('agenda.bin')");
  const [download] = await Promise.all([b.page.waitForEvent("download"), b.page.click(".attachments a:has-text('agenda.bin')")]);
  const got = readFileSync((await download.path())!);
  expect(Buffer.compare(got, payload)).toBe(0);
  // and Alice's copy is in Sent
  await a.page.click(".folder:has-text('Sent')");
  await a.page.waitForSelector("#messages li.msg:has-text('Re: Lunch on Friday?')");
  await a.ctx.close();
  await b.ctx.close();
}, 120_000);

test("search by subject and from:, move to a folder and back, a draft survives a reload", async () => {
  for (const [from, subject] of [
    ["carol@remote.test", "Quarterly numbers"],
    ["dave@remote.test", "Garden party"],
  ])
    expect((await smtp(from, ALICE.address, `From: ${from}\r\nTo: ${ALICE.address}\r\nSubject: ${subject}\r\n\r\nhello\r\n`)).ok).toBe(true);
  const { ctx, page } = await login(ALICE);
  await page.fill("#q", "subject:Quarterly");
  await page.press("#q", "Enter");
  await page.waitForSelector("#list-title:has-text('Search: subject:Quarterly')");
  await page.waitForFunction(() => document.querySelectorAll("#messages li.msg").length === 1);
  expect(await page.textContent("#messages")).toContain("Quarterly numbers");
  await page.fill("#q", "from:dave@remote.test");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#messages li.msg").length === 1 && document.querySelector("#messages")!.textContent!.includes("Garden party"));

  // a new folder, move there, and back
  page.once("dialog", (d) => d.accept("Projects"));
  await page.click("#new-folder");
  await page.waitForSelector(".folder:has-text('Projects')");
  await page.click(".folder:has-text('Inbox')");
  await page.waitForSelector("#messages li.msg:has-text('Garden party')");
  await page.check("#messages li.msg:has-text('Garden party') input[type=checkbox]");
  const projects = await page.getAttribute(".folder:has-text('Projects')", "data-id");
  await page.selectOption("#move-to", projects!);
  await page.waitForSelector("#toast.show:has-text('Moved to Projects')");
  await page.waitForFunction(() => !document.querySelector("#messages")!.textContent!.includes("Garden party"));
  await page.click(".folder:has-text('Projects')");
  await page.waitForSelector("#messages li.msg:has-text('Garden party')");
  await page.check("#messages li.msg:has-text('Garden party') input[type=checkbox]");
  const inbox = await page.getAttribute(".folder:has-text('Inbox')", "data-id");
  await page.selectOption("#move-to", inbox!);
  await page.waitForFunction(() => !document.querySelector("#messages")!.textContent!.includes("Garden party"));
  await page.click(".folder:has-text('Inbox')");
  await page.waitForSelector("#messages li.msg:has-text('Garden party')");

  // a draft, saved by itself, survives a reload
  await page.click("#compose");
  await page.fill("#c-to", "someone@remote.test");
  await page.fill("#c-subject", "Half-written thoughts");
  await page.fill("#c-body", "To be continued…");
  await page.waitForSelector(".composer [role=status]:has-text('Draft saved')", { timeout: 15_000 });
  await page.reload();
  await page.waitForSelector("body.ready");
  await page.click(".folder:has-text('Drafts')");
  await page.click("#messages li.msg:has-text('Half-written thoughts') .row");
  await page.waitForSelector("form.composer");
  expect(await page.inputValue("#c-subject")).toBe("Half-written thoughts");
  expect(await page.inputValue("#c-body")).toContain("To be continued…");
  await shoot(page, "webmail-draft");
  await ctx.close();
}, 120_000);

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

test("hostile HTML runs nothing and loads nothing until images are allowed; cid: images show", async () => {
  const t = `http://127.0.0.1:${tracker.port}`;
  const html = `<html><head><meta http-equiv="refresh" content="0;url=${t}/meta-refresh"><style>body{background:url(${t}/css-bg.png)} @import url(${t}/import.css);</style><script>alert("script")</script></head><body>
<p id="hello">Hello from a hostile sender</p>
<img src="${t}/track.png" onerror="alert('onerror')" alt="tracker">
<img src="x" onerror="alert('onerror2')">
<a id="js" href="javascript:alert('link')">click me</a>
<div style="background-image:url(${t}/inline-bg.png)">styled</div>
<form action="${t}/phish" method="post"><input name="password"><button>Log in</button></form>
<svg onload="alert('svg')"><script>alert('svg-script')</script></svg>
<iframe src="${t}/frame"></iframe>
<img src="cid:logo@example.test" alt="logo" id="cid-img">
</body></html>`;
  const msg = [
    `From: Mallory <mallory@evil.test>`,
    `To: ${ALICE.address}`,
    `Subject: Your account needs attention`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/related; boundary="rel"`,
    ``,
    `--rel`,
    `Content-Type: text/html; charset=utf-8`,
    ``,
    html.replace(/\n/g, "\r\n"),
    `--rel`,
    `Content-Type: image/png`,
    `Content-ID: <logo@example.test>`,
    `Content-Transfer-Encoding: base64`,
    ``,
    PNG_1PX,
    `--rel--`,
    ``,
  ].join("\r\n");
  expect(await smtp("mallory@evil.test", ALICE.address, msg)).toMatchObject({ ok: true });
  const { ctx, page } = await login(ALICE);
  const dialogs: string[] = [];
  page.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss()));
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  tracked.length = 0;
  await page.click("#messages li.msg:has-text('Your account needs attention') .row");
  const frame = page.frameLocator("iframe.mail-frame");
  await frame.locator("#hello").waitFor();
  await Bun.sleep(1500);
  expect(dialogs).toEqual([]);
  expect(tracked).toEqual([]);
  expect(requests.filter((u) => u.startsWith(t))).toEqual([]);
  // nothing active survived the sanitizer; the cid: image shows from the message itself
  expect(await frame.locator("body form, body input, body script, body svg, body iframe, body meta").count()).toBe(0);
  expect(await frame.locator("#js").getAttribute("href")).toBeNull();
  expect(await frame.locator("#cid-img").getAttribute("src")).toStartWith("data:image/png;base64,");
  expect(await frame.locator("#cid-img").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
  expect(await page.getAttribute("iframe.mail-frame", "sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
  await page.waitForSelector(".note.info:has-text('Remote images and styles are blocked')");
  await shoot(page, "webmail-hostile");

  // allowed for this message: the remote image loads now (and still no script ran)
  await page.click(".note.info button:has-text('Show them')");
  await page.frameLocator("iframe.mail-frame").locator("#hello").waitFor();
  for (let i = 0; i < 50 && !tracked.includes("/track.png"); i++) await Bun.sleep(100);
  expect(tracked).toContain("/track.png");
  expect(tracked).not.toContain("/phish");
  expect(tracked).not.toContain("/frame");
  expect(tracked).not.toContain("/meta-refresh");
  expect(dialogs).toEqual([]);
  await ctx.close();
}, 60_000);

test("another user's message cannot be read by changing an id", async () => {
  expect((await smtp(BOB.address, ALICE.address, `From: ${BOB.address}\r\nTo: ${ALICE.address}\r\nSubject: private\r\n\r\nfor Alice only\r\n`)).ok).toBe(true);
  const { ctx, page } = await login(BOB);
  // Alice's account and one of her messages, as her own JMAP client sees them (Basic auth)
  const aliceAcct = (await srv.core.store.getAccount(ALICE.address))!;
  const aliceAccountId = `a${aliceAcct.id.toString(36)}`;
  const q = (await fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${ALICE.address}:${ALICE.password}`)}`, "content-type": "application/json" },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls: [["Email/query", { accountId: aliceAccountId }, "0"]] }),
    tls: { rejectUnauthorized: false },
  } as RequestInit).then((r) => r.json())) as { methodResponses: [string, { ids: string[] }, string][] };
  const aliceEmail = q.methodResponses[0]![1].ids[0]!;
  expect(aliceEmail).toBeString();
  /** Email/get from Bob's logged-in page. */
  const get = (accountId: string | null, ids: string[]) =>
    page.evaluate(
      async ([acc, idList]) => {
        const csrf = document.querySelector('meta[name="csrf-token"]')!.content;
        const h = { "x-csrf-token": csrf, "content-type": "application/json" };
        const session = (await (await fetch("/jmap/session", { headers: h })).json()) as { primaryAccounts: Record<string, string> };
        const accountId = acc ?? session.primaryAccounts["urn:ietf:params:jmap:mail"];
        const r = await fetch("/jmap/api", {
          method: "POST",
          headers: h,
          body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls: [["Email/get", { accountId, ids: idList, properties: ["subject"] }, "0"]] }),
        });
        return ((await r.json()) as { methodResponses: [string, { list?: unknown[]; notFound?: string[]; type?: string }, string][] }).methodResponses[0]!;
      },
      [accountId, ids] as [string | null, string[]],
    );
  // her message's id in Bob's own account: not found, nothing of it returned
  const own = await get(null, [aliceEmail]);
  expect(own[1].list).toEqual([]);
  expect(own[1].notFound).toEqual([aliceEmail]);
  // her account id: refused
  const cross = await get(aliceAccountId, [aliceEmail]);
  expect(cross[0]).toBe("error");
  expect(["accountNotFound", "forbidden"]).toContain(cross[1].type!);
  // a write without the CSRF header is refused
  const status = await page.evaluate(async () => (await fetch("/jmap/api", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status);
  expect(status).toBe(403);
  await ctx.close();
}, 60_000);

test("rich text: bold and a list go out as multipart/alternative with a plain-text twin", async () => {
  const { ctx, page } = await login(ALICE);
  await page.click("#compose");
  await page.fill("#c-to", BOB.address);
  await page.fill("#c-subject", "Formatted note");
  await page.click("#c-rich-toggle");
  await page.click("#c-rich");
  await page.keyboard.type("Plain start ");
  await page.click(".rich-bar button[title=Bold]");
  await page.keyboard.type("bold words");
  await page.click(".rich-bar button[title=Bold]");
  await page.keyboard.press("Enter");
  await page.click(".rich-bar button[title='Bulleted list']");
  await page.keyboard.type("first item");
  await shoot(page, "webmail-rich");
  await page.click("form.composer button[type=submit]");
  await page.waitForSelector("#toast.show:has-text('Sent.')");
  await ctx.close();
  const acct = (await srv.core.store.getAccount(BOB.address))!;
  const box = (await srv.core.store.getMailbox(acct.id, "INBOX"))!;
  let raw = "";
  for (let i = 0; i < 100 && !raw; i++) {
    for (const m of await srv.core.store.messages(box.id)) {
      const text = Buffer.from(await srv.core.store.read(m)).toString("utf8");
      if (text.includes("Subject: Formatted note")) raw = text;
    }
    if (!raw) await Bun.sleep(100);
  }
  expect(raw).toMatch(/Content-Type: multipart\/alternative/i);
  expect(raw).toMatch(/<(b|strong)>bold words<\/(b|strong)>/);
  expect(raw).toContain("<li>first item</li>");
  expect(raw).toMatch(/Content-Type: text\/plain[\s\S]*bold words/);
}, 60_000);

test("a vacation reply set in the webmail answers the next sender once", async () => {
  const { ctx, page } = await login(ALICE);
  await page.click("#vacation");
  await page.waitForSelector("form.settings");
  await page.check("#v-on");
  await page.fill("#v-subject", "Away until Monday");
  await page.fill("#v-body", "I am away and will answer on Monday.");
  await page.click("form.settings button[type=submit]");
  await page.waitForSelector("#toast.show:has-text('Vacation reply is on.')");
  await shoot(page, "webmail-vacation");
  await ctx.close();
  for (let i = 0; i < 2; i++) expect((await smtp(BOB.address, ALICE.address, `From: ${BOB.address}\r\nTo: ${ALICE.address}\r\nSubject: are you there ${i}?\r\n\r\nhello\r\n`)).ok).toBe(true);
  const bobInbox = async () => {
    const acct = (await srv.core.store.getAccount(BOB.address))!;
    const box = (await srv.core.store.getMailbox(acct.id, "INBOX"))!;
    const out: string[] = [];
    for (const m of await srv.core.store.messages(box.id)) out.push(Buffer.from(await srv.core.store.read(m)).toString("utf8"));
    return out.filter((m) => /^Subject: Away until Monday/m.test(m));
  };
  for (let i = 0; i < 100 && (await bobInbox()).length === 0; i++) await Bun.sleep(100);
  await Bun.sleep(500);
  const replies = await bobInbox();
  expect(replies.length).toBe(1);
  expect(replies[0]).toContain("I am away and will answer on Monday.");
}, 60_000);

test("phone width: the list, then the message on its own", async () => {
  const { ctx, page } = await login(ALICE, PHONE);
  await page.waitForSelector("#messages li.msg");
  await shoot(page, "webmail-inbox");
  await page.click("#messages li.msg:has-text('Lunch on Friday?') .row");
  await page.waitForSelector(".reader h1.subject");
  expect(await page.isVisible("#list")).toBe(false);
  await shoot(page, "webmail-read");
  await page.click(".reader .tools button:has-text('Back')");
  expect(await page.isVisible("#list")).toBe(true);
  await ctx.close();
}, 60_000);
