// The console's admin pages in real Chromium (playwright-core + Debian's chromium):
// disabling an account (imapflow is refused, then let in again), its quota, deleting a
// domain (refused while accounts remain), one queued message (recipients, tries, the last
// answer; retry, bounce with the notice to the sender, delete), and the list of SMTP-time
// rejections made by Python's smtplib.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { freePort } from "../helpers/aiosmtpd.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { launchChromium, newContext, screenshotBoth } from "../helpers/browser.ts";
import { imapLoginWorks } from "../helpers/imap-sessions.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const ADMIN = { local: "admin", password: "admin-password-1" };
const ALICE = { address: "alice@example.test", password: "alice-password-1" };

let dns: TestDns;
let srv: TestServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let base: string;

beforeAll(async () => {
  // remote.test's MX answers nowhere (a closed port): its mail waits in the queue.
  dns = await startTestDns({ "remote.test": { MX: [{ exchange: "mx.remote.test", priority: 10 }] }, "mx.remote.test": { A: ["127.0.0.1"] } });
  srv = await startTestServer({
    domains: [],
    config: {
      dns: { servers: [dns.server], timeout: "2s" },
      delivery: { port: await freePort() },
      console: { probeDomain: "remote.test", dnsblsV4: [], dnsblsV6: [], domainBls: [], checkTimeout: "2s" },
    } as never,
  });
  base = `https://127.0.0.1:${srv.port("https")}`;
  browser = await launchChromium();
  ctx = await newContext(browser);
  page = await ctx.newPage();
  // The first admin, made the way a new user makes it: the wizard's account step.
  const token = readFileSync(join(srv.dataDir, "setup.token"), "utf8").trim();
  await page.goto(`${base}/setup?token=${token}&step=account`);
  await page.fill("#local", ADMIN.local);
  await page.fill("#domain", "example.test");
  await page.fill("#password", ADMIN.password);
  await page.fill("#password2", ADMIN.password);
  await page.click("text=Create domain and account");
  await page.waitForURL(/step=dns/);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.cleanup();
  await dns?.close();
});

const shoot = (name: string, url?: string) => screenshotBoth(page, name, url);

const imapLogin = (user: string, pass: string) => imapLoginWorks(srv, user, pass);

/** Python's smtplib (a child process: the server runs in this one): the codes it collects. */
async function smtplib(port: number, steps: string): Promise<number[]> {
  const script = `import smtplib, json, sys
s = smtplib.SMTP("127.0.0.1", ${port}, timeout=20)
s.ehlo("client.example.net")
out = []
${steps}
s.quit()
print(json.dumps(out))`;
  const p = Bun.spawn(["/usr/bin/python3", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(err);
  return JSON.parse(out) as number[];
}

const notice = () => page.textContent(".notice");

test("an account is disabled (IMAP refuses it) and enabled again; its quota is set", async () => {
  await page.goto(`${base}/admin/accounts`);
  await page.fill("#local", "alice");
  await page.fill("#password", ALICE.password);
  await page.click("text=Add account");
  expect(await notice()).toContain("alice@example.test created");
  expect(await imapLogin(ALICE.address, ALICE.password)).toBe(true);

  await page.click("#accounts tr:has-text('alice@example.test') >> text=Manage");
  await page.waitForURL(/\/admin\/accounts\/alice/);
  page.once("dialog", (d) => void d.accept());
  await page.click("button:has-text('Disable login')");
  expect(await notice()).toContain("cannot log in");
  expect(await page.locator("#status .pill").first().textContent()).toBe("disabled");
  expect(await imapLogin(ALICE.address, ALICE.password)).toBe(false);
  expect((await srv.core.store.getAccount(ALICE.address))!.disabled).toBe(true);

  // A bad limit is said in words and changes nothing.
  await page.fill("#storage", "lots");
  await page.click("#quota button:has-text('Save')");
  expect(await page.textContent(".notice.error")).toContain("whole number");
  await page.fill("#storage", "2");
  await page.fill("#messages", "500");
  await page.click("#quota button:has-text('Save')");
  expect(await notice()).toContain("Quota saved");
  const acct = (await srv.core.store.getAccount(ALICE.address))!;
  expect(await srv.core.store.getQuota(acct.id)).toMatchObject({ storageKib: 2048, messages: 500 });
  expect(await page.textContent("#quota")).toContain("of 2 MB");
  await shoot("admin-account-disabled", `${base}/admin/accounts/alice%40example.test`);

  await page.click("button:has-text('Enable login')");
  expect(await notice()).toContain("can log in again");
  expect(await imapLogin(ALICE.address, ALICE.password)).toBe(true);
  // An admin cannot lock themselves out.
  await page.goto(`${base}/admin/accounts/admin%40example.test`);
  expect(await page.locator("button:has-text('Disable login')").count()).toBe(0);
  await page.goto(`${base}/admin/accounts`);
  expect(await page.textContent("#accounts")).toContain("of 2 MB");
  await shoot("admin-accounts");
}, 60_000);

test("a domain with accounts is not deleted; an empty one is, after a confirmation", async () => {
  await page.goto(`${base}/admin/domains`);
  await page.fill("#name", "spare.test");
  await page.click("text=Add domain");
  expect(await notice()).toContain("spare.test added");
  // example.test has accounts: no delete button, and a forged POST is refused in words.
  expect(await page.locator("#domains tr:has-text('example.test') button:has-text('Delete')").count()).toBe(0);
  const csrf = await page.getAttribute("input[name=_csrf]", "value");
  const forged = await page.request.post(`${base}/admin/domains/example.test/delete`, { form: { _csrf: csrf! } });
  expect(forged.status()).toBe(400);
  expect(await forged.text()).toContain("still has 2 account(s)");
  expect(await srv.core.store.isLocalDomain("example.test")).toBe(true);
  await shoot("admin-domains");

  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.click("#domains tr:has-text('spare.test') button:has-text('Delete')");
  expect(asked).toContain("Delete the domain spare.test?");
  expect(await notice()).toContain("spare.test deleted");
  expect(await srv.core.store.isLocalDomain("spare.test")).toBe(false);
}, 60_000);

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(200);
  }
}

test("one queued message: its recipients, tries and last answer; retry, bounce (the sender is told), delete", async () => {
  const submit = (subject: string) =>
    smtplib(
      srv.port("submission"),
      `s.login("${ALICE.address}", "${ALICE.password}")
s.sendmail("${ALICE.address}", ["bob@remote.test", "carol@remote.test"], "From: ${ALICE.address}\\r\\nTo: bob@remote.test\\r\\nSubject: ${subject}\\r\\n\\r\\nhello\\r\\n")
out.append(250)`,
    );
  await submit("stuck one");
  // The first try fails (nothing listens at remote.test's MX): deferred, with the reason.
  const id = await waitFor(async () => (await srv.core.spool.list()).find((q) => q.status === "deferred" && q.lastError)?.id);
  await page.goto(`${base}/admin/queue`);
  expect(await page.textContent("#queue")).toContain("bob@remote.test and 1 more");
  await shoot("admin-queue");
  await page.click(`#queue a:has-text('${id}')`);
  await page.waitForURL(new RegExp(`/admin/queue/${id}`));
  const rows = page.locator("#recipients tbody tr");
  expect(await rows.count()).toBe(2);
  expect(await page.textContent("#recipients")).toContain("carol@remote.test");
  expect(await page.textContent("#recipients")).toMatch(/refused|connect|ECONNREFUSED/i);
  await shoot("admin-queue-message");

  await page.click("button:has-text('Retry now')");
  expect(await notice()).toMatch(/tried again now|No recipient/);

  const inbox = async () => {
    const a = (await srv.core.store.getAccount(ALICE.address))!;
    return srv.core.store.messages((await srv.core.store.getMailbox(a.id, "INBOX"))!.id);
  };
  const before = (await inbox()).length;
  // Retry put them in flight: bounce once they are waiting again.
  await waitFor(async () => ((await srv.core.spool.get(id)).every((q) => q.status === "deferred") ? true : undefined));
  await page.goto(`${base}/admin/queue/${id}`);
  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    void d.accept();
  });
  await page.click("button:has-text('Bounce')");
  expect(asked).toContain("Give up on 2 waiting recipient(s)?");
  expect(await notice()).toContain("Bounced: 2 recipient(s)");
  expect((await srv.core.spool.get(id)).map((q) => q.status)).toEqual(["failed", "failed"]);
  const dsn = await waitFor(async () => ((await inbox()).length > before ? (await inbox()).at(-1) : undefined));
  const raw = new TextDecoder().decode(await srv.core.store.read(dsn));
  expect(raw).toContain("multipart/report");
  expect(raw).toContain("given up by hand");
  expect(raw).toContain("bob@remote.test");

  await submit("another");
  const id2 = await waitFor(async () => (await srv.core.spool.list()).find((q) => q.id !== id && q.status !== "inflight")?.id);
  await page.goto(`${base}/admin/queue/${id2}`);
  page.once("dialog", (d) => void d.accept());
  await page.click("button:has-text('Delete')");
  expect(await notice()).toContain(`Deleted ${id2}`);
  expect((await srv.core.spool.list()).some((q) => q.id === id2)).toBe(false);
}, 90_000);

test("SMTP-time rejections are listed with the client, the addresses and the answer", async () => {
  const codes = await smtplib(
    srv.port("smtp"),
    `s.mail("someone@sender.example")
out.append(s.rcpt("nobody@example.test")[0])
out.append(s.rcpt("victim@elsewhere.example")[0])`,
  );
  expect(codes).toEqual([550, 554]); // no such user; relay access denied
  await page.goto(`${base}/admin/activity`);
  const rows = page.locator("#rejections tbody tr");
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  const text = await page.textContent("#rejections");
  expect(text).toContain("to nobody@example.test");
  expect(text).toContain("to victim@elsewhere.example");
  expect(text).toContain("from someone@sender.example");
  expect(text).toContain("127.0.0.1");
  expect(text).toContain("client.example.net");
  expect(text).toMatch(/550 5\.1\.1/);
  expect(text).toMatch(/554 5\.7\.1/);
  // The bounce of the queue test is among the deliveries, with its reason.
  expect(await page.textContent("#activity")).toContain("given up by hand");
  await shoot("admin-activity");
}, 60_000);

test("the dashboard counts today's mail: a message from outside raises 'received today' by one", async () => {
  const received = async () => {
    await page.goto(`${base}/admin`);
    return Number(await page.textContent("#received-today"));
  };
  const before = await received();
  const codes = await smtplib(
    srv.port("smtp"),
    `out.append(s.sendmail("friend@sender.example", ["alice@example.test"], "From: friend@sender.example\\r\\nTo: alice@example.test\\r\\nSubject: hi\\r\\n\\r\\nhello\\r\\n") == {} and 250)`,
  );
  expect(codes).toEqual([250]);
  expect(await received()).toBe(before + 1);
  expect(await page.textContent("#sent-today")).toBe("0"); // remote.test never answered
  await shoot("admin-dashboard");
}, 60_000);
