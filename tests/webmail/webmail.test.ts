// The webmail in real Chromium (playwright-core + Debian's chromium), on the JMAP API:
// log in, a message sent over SMTP appears live, open it, reply with an attachment that
// the other user sees arrive live and downloads byte for byte, search, move to a folder
// and back, a draft that survives a reload, a hostile HTML message that runs nothing and
// loads nothing until images are allowed, and another user's message out of reach; then
// signatures edited in settings, forward as attachment, a conversation view, and the junk
// filter trained by the Junk / Not junk buttons.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, newContext, PHONE, screenshot } from "../helpers/browser.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { mailbox, pySend } from "../helpers/smtp.ts";
import { decodeQP } from "../../core/mime/index.ts";
import nodemailer from "nodemailer";

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
  if (Object.keys(figures).length) writeFileSync(join(".test-results", "webmail-figures.json"), JSON.stringify(figures, null, 2) + "\n");
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
  // first load in a fresh browser context (cold cache): bytes and time to a usable list
  let bytes = 0;
  const fresh = await (await newContext(browser)).newPage();
  fresh.on("response", async (r) => {
    const len = Number(r.headers()["content-length"] ?? 0) || (await r.body().catch(() => Buffer.alloc(0))).length;
    bytes += len;
  });
  await fresh.context().addCookies(await a.ctx.cookies());
  const t0 = performance.now();
  await fresh.goto(`${base}/mail/`);
  await fresh.waitForSelector("#messages li");
  figures.firstLoadMs = Math.round(performance.now() - t0);
  figures.firstLoadKB = Math.round(bytes / 1024);
  await fresh.context().close();

  // Bob writes to Alice over SMTP (nodemailer): it appears in her open list without a
  // reload; timed from the 250 that ends DATA to the row in the page
  const shown = a.page.waitForSelector("#messages li.msg.unread:has-text('Lunch on Friday?')", { timeout: 15_000 }).then(() => performance.now());
  const mta = nodemailer.createTransport({ host: "127.0.0.1", port: srv.port("smtp"), secure: false, ignoreTLS: true });
  const info = await mta.sendMail({
    envelope: { from: BOB.address, to: [ALICE.address] },
    raw: `From: Bob <${BOB.address}>\r\nTo: ${ALICE.address}\r\nSubject: Lunch on Friday?\r\n\r\nShall we meet at noon?\r\nhttps://example.test/menu\r\n`,
  });
  const at250 = performance.now();
  expect(info.response).toStartWith("250");
  figures.smtpToWebmailMs = Math.round((await shown) - at250);
  mta.close();
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

test("only the embedded assets are served: an unknown name or an Object property is 404", async () => {
  const ok = await fetch(`${base}/mail/assets/app.js`, { tls: { rejectUnauthorized: false } });
  expect(ok.status).toBe(200);
  expect(ok.headers.get("content-type")).toContain("text/javascript");
  expect((await ok.text()).length).toBeGreaterThan(1000);
  for (const name of ["nope.js", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const r = await fetch(`${base}/mail/assets/${name}`, { tls: { rejectUnauthorized: false } });
    expect([name, r.status]).toEqual([name, 404]);
  }
});

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
  // saved as a draft, it resumes as rich text after a reload
  await page.click("form.composer button:has-text('Save draft')");
  await page.waitForSelector(".composer [role=status]:has-text('Draft saved')");
  await page.reload();
  await page.waitForSelector("body.ready");
  await page.click(".folder:has-text('Drafts')");
  await page.click("#messages li.msg:has-text('Formatted note') .row");
  await page.waitForSelector("#c-rich:visible");
  expect(await page.innerHTML("#c-rich")).toMatch(/<(b|strong)>bold words<\/(b|strong)>[\s\S]*<li>first item<\/li>/);
  expect(await page.isVisible("#c-body")).toBe(false);
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

/** Visible controls without an accessible name (label, aria-label, text, title). */
function unnamedControls(page: Page): Promise<string[]> {
  return page.$$eval("button, input:not([type=hidden]), select, textarea, [contenteditable=true], a[href]", (els) =>
    (
      els as unknown as {
        id: string;
        tagName: string;
        outerHTML: string;
        offsetParent: unknown;
        labels?: ArrayLike<unknown> | null;
        textContent: string | null;
        getAttribute(n: string): string | null;
      }[]
    )
      .filter((e) => e.offsetParent !== null)
      .filter((e) => !(e.getAttribute("aria-label") || e.getAttribute("title") || e.textContent?.trim() || e.labels?.length || e.getAttribute("aria-labelledby")))
      .map((e) => e.outerHTML.slice(0, 80)),
  );
}

/** Waits for a raw message in a mailbox of `address` that matches. */
async function arrived(address: string, match: RegExp, box = "INBOX"): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const m = (await mailbox(srv, address, box)).find((raw) => match.test(raw));
    if (m) return m;
    await Bun.sleep(100);
  }
  throw new Error(`no message matching ${match} for ${address} in ${box}`);
}

test("the account's own name and signature, edited in settings, start every new message (plain and rich)", async () => {
  const { ctx, page } = await login(ALICE);
  await page.click("#identities");
  await page.waitForSelector("form.identity[data-id=i0]");
  await page.fill("#id-name-i0", "Alice Liddell");
  await page.fill("#id-text-i0", "Alice Liddell\nWonderland Ltd.");
  await page.click("#id-html-i0");
  await page.click("form.identity[data-id=i0] .rich-bar button[title=Bold]");
  await page.keyboard.type("Alice L.");
  await page.click("form.identity[data-id=i0] .rich-bar button[title=Bold]");
  await page.keyboard.type(" of Wonderland");
  await page.click("form.identity[data-id=i0] button[type=submit]");
  await page.waitForSelector("#toast.show:has-text('Saved for alice@example.test')");
  await shoot(page, "webmail-signature");
  expect(await unnamedControls(page)).toEqual([]);
  // a Reply-To set on the identity by another JMAP client goes out with new mail too
  const acct = (await srv.core.store.getAccount(ALICE.address))!;
  const set = (await fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${ALICE.address}:${ALICE.password}`)}`, "content-type": "application/json" },
    body: JSON.stringify({
      using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:submission"],
      methodCalls: [["Identity/set", { accountId: `a${acct.id.toString(36)}`, update: { i0: { replyTo: [{ name: null, email: "replies@example.test" }] } } }, "0"]],
    }),
    tls: { rejectUnauthorized: false },
  } as RequestInit).then((x) => x.json())) as { methodResponses: [string, { updated?: Record<string, unknown> }, string][] };
  expect(set.methodResponses[0]![1].updated).toEqual({ i0: null });
  // kept on the server: a reload shows it again
  await page.reload();
  await page.waitForSelector("body.ready");
  await page.click("#identities");
  await page.waitForSelector("form.identity[data-id=i0]");
  expect(await page.inputValue("#id-name-i0")).toBe("Alice Liddell");
  expect(await page.inputValue("#id-text-i0")).toBe("Alice Liddell\nWonderland Ltd.");
  expect(await page.innerHTML("#id-html-i0")).toMatch(/<(b|strong)>Alice L\.<\/(b|strong)>(&nbsp;| )of Wonderland/);

  // a new message starts with the text signature; rich text swaps in the HTML one
  await page.click("#compose");
  await page.waitForSelector("form.composer");
  expect(await page.inputValue("#c-body")).toBe("\n\n-- \nAlice Liddell\nWonderland Ltd.");
  expect(await page.textContent(".composer .from-line")).toContain("Alice Liddell <alice@example.test>");
  await page.fill("#c-to", BOB.address);
  await page.fill("#c-subject", "Signed note");
  await page.click("#c-rich-toggle");
  expect(await page.innerHTML("#c-rich [data-signature]")).toMatch(/^-- <br><(b|strong)>Alice L\.<\/(b|strong)>(&nbsp;| )of Wonderland$/);
  await page.click("#c-rich");
  await page.keyboard.press("Control+Home");
  await page.keyboard.type("See you at the party.");
  await page.click("form.composer button[type=submit]");
  await page.waitForSelector("#toast.show:has-text('Sent.')");
  await ctx.close();
  const raw = await arrived(BOB.address, /^Subject: Signed note/m);
  expect(raw).toMatch(/^From: Alice Liddell <alice@example\.test>/m);
  expect(raw).toMatch(/^Reply-To: replies@example\.test\r$/m);
  expect(raw).not.toMatch(/[^\r]\n/); // the browser's line breaks became CRLF (RFC 5322 §2.1)
  expect(raw).toMatch(/Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSee you at the party\.\r\n[\s\S]*-- \r\nAlice L\. of Wonderland\r\n/);
  // the HTML part may be quoted-printable (which drops trailing spaces, so only here)
  expect(new TextDecoder().decode(decodeQP(raw))).toMatch(/<(b|strong)>Alice L\.<\/(b|strong)>(&nbsp;| )of Wonderland/);
  // the settings at phone width: from the folder menu
  const phone = await login(ALICE, PHONE);
  await phone.page.click("#menu");
  await phone.page.click("#identities");
  await phone.page.waitForSelector("form.identity[data-id=i0]");
  expect(await phone.page.isVisible("#list")).toBe(false);
  // the folder menu slides away
  await phone.page.waitForFunction(() => (document.querySelector("#folders") as unknown as { getBoundingClientRect(): { right: number } }).getBoundingClientRect().right <= 0);
  await shoot(phone.page, "webmail-signature");
  await phone.ctx.close();
}, 60_000);

test("forward as attachment: the original goes as a message/rfc822 part the recipient can open", async () => {
  const a = await login(ALICE);
  await a.page.click(".folder:has-text('Inbox')");
  await a.page.click("#messages li.msg:has-text('Lunch on Friday?') .row");
  await a.page.waitForSelector(".reader .tools button:has-text('Forward as attachment')");
  await a.page.click(".reader .tools button:has-text('Forward as attachment')");
  await a.page.waitForSelector("form.composer .attachments li:has-text('Lunch on Friday.eml')");
  expect(await a.page.inputValue("#c-subject")).toBe("Fwd: Lunch on Friday?");
  expect(await a.page.inputValue("#c-body")).not.toContain("Shall we meet at noon?");
  await a.page.fill("#c-to", BOB.address);
  await shoot(a.page, "webmail-forward-attached");
  await a.page.click("form.composer button[type=submit]");
  await a.page.waitForSelector("#toast.show:has-text('Sent.')");
  await a.ctx.close();
  const raw = await arrived(BOB.address, /^Subject: Fwd: Lunch on Friday\?/m);
  // RFC 2046 §5.2.1: a message/rfc822 part is not encoded; the original is there verbatim
  expect(raw).toMatch(/Content-Type: message\/rfc822[\s\S]*Content-Transfer-Encoding: 7bit/i);
  expect(raw).toContain("Subject: Lunch on Friday?\r\n\r\nShall we meet at noon?");
  // Bob's webmail lists it as an attached message
  const b = await login(BOB);
  await b.page.click("#messages li.msg:has-text('Fwd: Lunch on Friday?') .row");
  await b.page.waitForSelector(".reader .attachments li:has-text('message/rfc822')");
  await b.ctx.close();
}, 60_000);

test("a conversation shows its messages oldest first, older ones collapsed until clicked", async () => {
  const thread = [
    ["carol@remote.test", "Trip plans", "<trip-1@remote.test>", "", "Shall we go to the mountains in June?"],
    ["dave@remote.test", "Re: Trip plans", "<trip-2@remote.test>", "<trip-1@remote.test>", "June is fine by me, the second week."],
    ["carol@remote.test", "Re: Trip plans", "<trip-3@remote.test>", "<trip-1@remote.test> <trip-2@remote.test>", "Second week it is. I will book the hut."],
  ];
  for (const [i, [from, subject, id, refs, body]] of thread.entries()) {
    const head = [`From: ${from}`, `To: ${ALICE.address}`, `Subject: ${subject}`, `Message-ID: ${id}`, `Date: Thu, 03 Dec 2026 0${i + 7}:00:00 +0000`];
    if (refs) head.push(`In-Reply-To: ${refs.split(" ").at(-1)}`, `References: ${refs}`);
    expect((await smtp(from!, ALICE.address, `${head.join("\r\n")}\r\n\r\n${body}\r\n`)).ok).toBe(true);
  }
  for (const viewport of [undefined, PHONE]) {
    const { ctx, page } = await login(ALICE, viewport);
    const row = page.locator("#messages li.msg", { hasText: "Trip plans" });
    await row.waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.locator(".thread").textContent()).toBe("3");
    await row.locator(".row").click();
    await page.waitForSelector(".conversation .card:not(.collapsed) .mail-text");
    expect(await page.locator(".conversation .card").count()).toBe(3);
    expect(await page.locator(".conversation .card.collapsed").count()).toBe(2);
    expect(await page.locator(".conversation .card:not(.collapsed) .mail-text").textContent()).toContain("I will book the hut.");
    expect(await page.locator(".conversation .card").first().locator(".card-preview").textContent()).toContain("mountains in June");
    expect(await page.isVisible("text=Shall we go to the mountains in June?")).toBe(true); // as the preview only
    // the oldest expands on a click, with its own body and actions
    await page.locator(".conversation .card").first().locator(".card-head").click();
    await page.waitForFunction(() => document.querySelectorAll(".conversation .card.collapsed").length === 1);
    const first = page.locator(".conversation .card").first();
    await first.locator(".mail-text").waitFor();
    expect(await first.locator(".mail-text").textContent()).toContain("Shall we go to the mountains in June?");
    expect(await first.locator(".card-head").getAttribute("aria-expanded")).toBe("true");
    expect(await first.locator(".card-tools button:has-text('Reply')").count()).toBeGreaterThan(0);
    expect(await unnamedControls(page)).toEqual([]);
    await shoot(page, "webmail-conversation");
    // and collapses again
    await first.locator(".card-head").click();
    await page.waitForFunction(() => document.querySelectorAll(".conversation .card.collapsed").length === 2);
    await ctx.close();
  }
  // Alice's reply is filed in Sent and still part of the conversation read from the Inbox
  const { ctx, page } = await login(ALICE);
  await page.click("#messages li.msg:has-text('Trip plans') .row");
  await page.waitForSelector(".conversation .card:not(.collapsed) .mail-text");
  await page.click(".reader .tools button:has-text('Reply')");
  await page.fill("#c-body", "Count me in for the hut.");
  await page.click("form.composer button[type=submit]");
  await page.waitForSelector("#toast.show:has-text('Sent.')");
  // (carol is remote: a bounce about the reply may arrive too, in a thread of its own)
  await page
    .locator("#messages li.msg", { has: page.locator(".subject", { hasText: /^Re: Trip plans$/ }) })
    .locator(".row")
    .click();
  await page.waitForFunction(() => document.querySelectorAll(".conversation .card").length === 4);
  const last = page.locator(".conversation .card").last();
  expect(await last.locator(".card-preview").textContent()).toContain("Count me in for the hut.");
  await ctx.close();
}, 90_000);

test("Junk and Not junk in the webmail train the junk filter (issue 22)", async () => {
  const aliceId = (await srv.core.store.getAccount(ALICE.address))!.id;
  const totals = async () => {
    const r = await srv.core.db.query({ sql: "SELECT spam, ham FROM junk_totals WHERE account_id = ?", args: [aliceId] });
    return { spam: Number(r.rows[0]?.spam ?? 0), ham: Number(r.rows[0]?.ham ?? 0) };
  };
  const until = async (want: (t: { spam: number; ham: number }) => boolean, label: string) => {
    for (let i = 0; i < 100; i++) {
      if (want(await totals())) return;
      await Bun.sleep(100);
    }
    throw new Error(`junk filter: ${label}, have ${JSON.stringify(await totals())}`);
  };
  expect(
    (
      await smtp(
        "promo@zorblax-deals.test",
        ALICE.address,
        `From: promo@zorblax-deals.test\r\nTo: ${ALICE.address}\r\nSubject: Zorblax quantum wallet upgrade\r\n\r\nClaim your zorblax quantum credits now.\r\n`,
      )
    ).ok,
  ).toBe(true);
  const { ctx, page } = await login(ALICE);
  await page.waitForSelector("#messages li.msg:has-text('Zorblax quantum wallet')");
  const before = await totals();
  await page.check("#messages li.msg:has-text('Zorblax quantum wallet') input[type=checkbox]");
  await page.click("#bulk button[data-act=junk]");
  await page.waitForSelector("#toast.show:has-text('Moved to Junk.')");
  await until((t) => t.spam === before.spam + 1 && t.ham === before.ham, "learned as spam");
  expect((await mailbox(srv, ALICE.address, "Junk")).some((m) => m.includes("Zorblax quantum wallet"))).toBe(true);
  // out of Junk again: unlearned as spam, learned as ham
  await page.click(".folder:has-text('Junk')");
  await page.check("#messages li.msg:has-text('Zorblax quantum wallet') input[type=checkbox]");
  expect(await page.textContent("#bulk button[data-act=junk]")).toBe("Not junk");
  await page.click("#bulk button[data-act=junk]");
  await page.waitForSelector("#toast.show:has-text('Not junk: moved to Inbox.')");
  await until((t) => t.spam === before.spam && t.ham === before.ham + 1, "unlearned, then learned as ham");
  expect((await mailbox(srv, ALICE.address)).some((m) => m.includes("Zorblax quantum wallet"))).toBe(true);
  await ctx.close();
}, 60_000);

test("keyboard shortcuts, autocomplete from Sent, a refused send keeps the draft, rename and delete a folder", async () => {
  const { ctx, page } = await login(ALICE);
  await page.waitForSelector("#messages li.msg");
  const ids = await page.$$eval("#messages li.msg", (lis) => lis.map((li) => (li as unknown as { dataset: { id: string } }).dataset.id));
  const selected = () => page.getAttribute("#messages li.msg.on", "data-id");
  await page.keyboard.press("j");
  await page.waitForSelector(".reader h1.subject");
  expect(await selected()).toBe(ids[0]!);
  await page.keyboard.press("j");
  await page.waitForFunction(
    (id) => document.querySelector("#messages li.msg.on")?.textContent !== null && (document.querySelector("#messages li.msg.on") as unknown as { dataset: { id: string } }).dataset.id === id,
    ids[1],
  );
  await page.keyboard.press("k");
  await page.waitForFunction((id) => (document.querySelector("#messages li.msg.on") as unknown as { dataset: { id: string } } | null)?.dataset.id === id, ids[0]);
  await page.keyboard.press("r");
  await page.waitForSelector("form.composer h2:has-text('Reply')");
  await page.click(".folder:has-text('Inbox')");
  await page.keyboard.press("/");
  expect(await page.evaluate(() => (document as unknown as { activeElement: { id: string } }).activeElement.id)).toBe("q");
  await page.click("#list-title");
  await page.keyboard.press("c");
  await page.waitForSelector("form.composer h2:has-text('New message')");
  expect(await unnamedControls(page)).toEqual([]);
  // this browser never sent anything: the addresses come from the Sent folder
  const options = await page.$$eval("#c-contacts option", (os) => os.map((o) => (o as unknown as { value: string }).value));
  expect(options).toContain(`Bob <${BOB.address}>`);

  // a send the server refuses: a clear error, the message kept in Drafts
  await page.fill("#c-to", "nobody-without-a-domain");
  await page.fill("#c-subject", "Refused one");
  await page.fill("#c-body", "This cannot go out.");
  await page.click("form.composer button[type=submit]");
  await page.waitForSelector("#toast.show.error:has-text('Not sent')");
  expect(await page.textContent("#toast")).toContain("kept in Drafts");
  expect(await page.isVisible("form.composer")).toBe(true);
  await page.click(".folder:has-text('Drafts')");
  await page.waitForSelector("#messages li.msg:has-text('Refused one')");

  // an address one may not send as is refused with the server's reason
  await page.click("#identities");
  await page.fill("#id-new-email", "stranger@remote.test");
  await page.click("form.identity.add button[type=submit]");
  await page.waitForSelector("#toast.show.error:has-text('forbiddenFrom')");
  expect(await page.locator("form.identity").count()).toBe(2); // i0 and the add form

  // rename and delete a folder of one's own
  await page.click(".folder:has-text('Projects')");
  page.once("dialog", (d) => d.accept("Projects 2026"));
  await page.click("button[aria-label='Rename Projects']");
  await page.waitForSelector(".folder:has-text('Projects 2026')");
  page.once("dialog", (d) => d.accept());
  await page.click("button[aria-label='Delete Projects 2026']");
  await page.waitForFunction(() => !document.querySelector("#folder-list")!.textContent!.includes("Projects"));
  await ctx.close();
}, 60_000);

test("a change from another device shows live; a DMARC failure is warned; has:attachment; log out", async () => {
  // the topmost Authentication-Results (this server's) failed DMARC; a forged "pass" below it changes nothing
  const ar =
    "Authentication-Results: mx.example.test; spf=fail smtp.mailfrom=bank.test; dkim=none; dmarc=fail header.from=bank.test\r\nAuthentication-Results: mx.example.test; dmarc=pass header.from=bank.test\r\n";
  expect((await smtp("alerts@bank.test", ALICE.address, `${ar}From: alerts@bank.test\r\nTo: ${ALICE.address}\r\nSubject: Verify your bank login\r\n\r\nClick here.\r\n`)).ok).toBe(true);
  const withFile = [
    `From: erin@remote.test`,
    `To: ${ALICE.address}`,
    `Subject: Invoice for November`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/mixed; boundary="b"`,
    ``,
    `--b`,
    `Content-Type: text/plain`,
    ``,
    `Attached.`,
    `--b`,
    `Content-Type: application/pdf; name="invoice.pdf"`,
    `Content-Disposition: attachment; filename="invoice.pdf"`,
    `Content-Transfer-Encoding: base64`,
    ``,
    `JVBERi0xLjQK`,
    `--b--`,
    ``,
  ].join("\r\n");
  expect((await smtp("erin@remote.test", ALICE.address, withFile)).ok).toBe(true);
  const { ctx, page } = await login(ALICE);
  await page.click("#messages li.msg:has-text('Verify your bank login') .row");
  await page.waitForSelector(".note.fail:has-text('failed DMARC')");
  await shoot(page, "webmail-dmarc-fail");

  // another device (a JMAP client with a password) flags it: the star appears here
  const acct = (await srv.core.store.getAccount(ALICE.address))!;
  const accountId = `a${acct.id.toString(36)}`;
  const id = await page.getAttribute("#messages li.msg:has-text('Verify your bank login')", "data-id");
  const r = (await fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`${ALICE.address}:${ALICE.password}`)}`, "content-type": "application/json" },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls: [["Email/set", { accountId, update: { [id!]: { "keywords/$flagged": true } } }, "0"]] }),
    tls: { rejectUnauthorized: false },
  } as RequestInit).then((x) => x.json())) as { methodResponses: [string, { updated?: Record<string, unknown> }, string][] };
  expect(r.methodResponses[0]![1].updated).toEqual({ [id!]: null });
  await page.waitForSelector("#messages li.msg:has-text('Verify your bank login') .icon-star", { timeout: 10_000 });

  await page.fill("#q", "has:attachment");
  await page.press("#q", "Enter");
  await page.waitForSelector("#list-title:has-text('Search: has:attachment')");
  await page.waitForSelector("#messages li.msg:has-text('Invoice for November')");
  expect(await page.textContent("#messages")).not.toContain("Verify your bank login");

  await page.click("header.top button:has-text('Log out')");
  await page.waitForURL(/\/login/);
  await page.goto(`${base}/mail/`);
  await page.waitForURL(/\/login\?next=/);
  await ctx.close();
}, 60_000);

test("mark several read and flagged, e archives, # deletes to Trash, and from Trash for good", async () => {
  for (const subject of ["Old newsletter", "Meeting notes"])
    expect((await smtp("frank@remote.test", ALICE.address, `From: frank@remote.test\r\nTo: ${ALICE.address}\r\nSubject: ${subject}\r\n\r\ntext\r\n`)).ok).toBe(true);
  const { ctx, page } = await login(ALICE);
  const row = (subject: string) => `#messages li.msg:has-text('${subject}')`;
  await page.waitForSelector(row("Meeting notes"));
  await page.check(`${row("Old newsletter")} input[type=checkbox]`);
  await page.check(`${row("Meeting notes")} input[type=checkbox]`);
  await page.click("#bulk button[data-act=read]");
  await page.waitForSelector(`${row("Meeting notes")}:not(.unread)`);
  await page.waitForSelector(`${row("Old newsletter")}:not(.unread)`);
  await page.check(`${row("Old newsletter")} input[type=checkbox]`);
  await page.check(`${row("Meeting notes")} input[type=checkbox]`);
  await page.click("#bulk button[data-act=flag]");
  await page.waitForSelector(`${row("Meeting notes")} .icon-star`);
  await page.waitForSelector(`${row("Old newsletter")} .icon-star`);
  // e: archive the open message; #: delete the open message (to Trash)
  await page.click(`${row("Meeting notes")} .row`);
  await page.waitForSelector(".reader h1.subject:has-text('Meeting notes')");
  await page.keyboard.press("e");
  await page.waitForFunction(() => !document.querySelector("#messages")!.textContent!.includes("Meeting notes"));
  expect((await mailbox(srv, ALICE.address, "Archive")).some((m) => m.includes("Subject: Meeting notes"))).toBe(true);
  await page.click(`${row("Old newsletter")} .row`);
  await page.waitForSelector(".reader h1.subject:has-text('Old newsletter')");
  await page.keyboard.press("#");
  await page.waitForSelector("#toast.show:has-text('Moved to Trash.')");
  await page.click(".folder:has-text('Trash')");
  await page.click(`${row("Old newsletter")} .row`);
  page.once("dialog", (d) => d.accept());
  await page.click(".reader .tools button:has-text('Delete for good')");
  await page.waitForSelector("#toast.show:has-text('Deleted.')");
  expect((await mailbox(srv, ALICE.address, "Trash")).some((m) => m.includes("Subject: Old newsletter"))).toBe(false);
  await ctx.close();
}, 60_000);
