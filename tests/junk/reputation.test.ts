// Sender reputation end to end (issue 22): with SPF/DMARC published on the test DNS
// server, a DMARC-aligned sender domain whose mail the user kept (read over imaplib) is
// trusted even for spam-looking mail; one whose mail the user moved into Junk is junked;
// a forged From of the trusted domain (DMARC fails) is left to the classifier.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startTestDns, type TestDns } from "../helpers/dns-server.ts";
import { python } from "../helpers/imap.ts";
import { mailbox, pySend } from "../helpers/smtp.ts";
import smtp from "../../plugins/smtp/index.ts";
import imap from "../../plugins/imap/index.ts";
import mailauth from "../../plugins/mailauth/index.ts";
import junk from "../../plugins/junk/index.ts";

const ALICE = { address: "alice@example.test", password: "alice-pw-1" };
let dns: TestDns;
let srv: TestServer;

beforeAll(async () => {
  dns = await startTestDns({
    "shop.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "_dmarc.shop.test": { TXT: ["v=DMARC1; p=none"] },
    "phish.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
    "_dmarc.phish.test": { TXT: ["v=DMARC1; p=none"] },
    "elsewhere.test": { TXT: ["v=spf1 ip4:127.0.0.1 -all"] },
  });
  srv = await startTestServer({ users: [ALICE], plugins: [smtp, mailauth, imap, junk], config: { dns: { servers: [dns.server], timeout: "1s" } } });
}, 30_000);
afterAll(async () => {
  await srv?.cleanup();
  await dns?.close();
});

let n = 0;
async function deliver(envelopeFrom: string, from: string, subject: string, body: string): Promise<void> {
  n++;
  const msg = [`From: <${from}>`, `To: <${ALICE.address}>`, `Subject: ${subject}`, "Date: Thu, 03 Dec 2026 09:00:00 +0000", `Message-ID: <r${n}@${from.split("@")[1]}>`, "", body, ""].join("\r\n");
  const r = await pySend(srv.port("smtp"), { from: envelopeFrom, to: [ALICE.address], msg });
  expect(r.ok).toBe(true);
}

async function imaplib(body: string): Promise<void> {
  await python(
    `
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login(${JSON.stringify(ALICE.address)}, ${JSON.stringify(ALICE.password)})
${body}
M.logout()
`,
    [String(srv.port("imap"))],
  );
}

async function senders(): Promise<string[]> {
  const r = await srv.core.db.query({ sql: "SELECT domain, ham, spam FROM junk_senders ORDER BY domain", args: [] });
  return r.rows.map((x) => `${x.domain}:${x.ham}/${x.spam}`);
}
async function until(what: () => Promise<boolean>, label: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out: ${label}`);
    await Bun.sleep(50);
  }
}

const SPAMMY = "Claim your guaranteed bonus today! Visit our site and unlock the cash prize now, click here, limited offer, act now.";

test("kept DMARC-aligned senders are trusted, junked ones junked, forged ones classified", async () => {
  await deliver("news@shop.test", "news@shop.test", "Your order shipped", "Your order 1234 has shipped and arrives on Friday.");
  await deliver("news@shop.test", "news@shop.test", "Your receipt", "Thank you for your purchase, the receipt is attached below.");
  await deliver("promo@phish.test", "promo@phish.test", "Account notice", "Please review the notice about your account settings.");
  const inbox = await mailbox(srv, ALICE.address);
  expect(inbox).toHaveLength(3);
  expect(inbox[0]).toMatch(/dmarc=pass[^;]*header\.from=shop\.test/);
  // Alice reads the shop's mail (kept) and moves the other into Junk.
  await imaplib(`
M.select('INBOX')
M.uid('FETCH', '1:2', '(BODY[])')
M.uid('MOVE', '3', 'Junk')
`);
  await until(async () => (await senders()).join(" ") === "phish.test:0/1 shop.test:2/0", "sender reputation learned");

  // The trusted shop may send what looks like spam; the seed alone would junk it.
  await deliver("news@shop.test", "news@shop.test", "Big sale", SPAMMY);
  const sale = (await mailbox(srv, ALICE.address)).find((m) => m.includes("Subject: Big sale"));
  expect(sale).toContain("X-Spam-Score: skipped (trusted sender domain)");
  // The junked domain goes to Junk whatever it says.
  await deliver("promo@phish.test", "promo@phish.test", "Hello again", "Please review the notice about your account settings.");
  const again = (await mailbox(srv, ALICE.address, "Junk")).find((m) => m.includes("Subject: Hello again"));
  expect(again).toContain("X-Spam-Score: skipped (junked sender domain)");
  // A forged From of the trusted domain is not aligned (SPF passes for elsewhere.test only).
  await deliver("x@elsewhere.test", "news@shop.test", "Big sale too", SPAMMY);
  const all = [...(await mailbox(srv, ALICE.address)), ...(await mailbox(srv, ALICE.address, "Junk"))];
  const forged = all.find((m) => m.includes("Subject: Big sale too"));
  expect(forged).toMatch(/^X-Spam-Score: [01]\.\d{3} \((junk|ok); kotakpos bayes\)\r$/m);
  expect(forged).toMatch(/dmarc=fail|dmarc=none/);
}, 60_000);
