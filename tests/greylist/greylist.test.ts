// Greylisting with swaks as the sending MTA (issue 22): the first attempt is deferred
// with 451 4.7.1, a retry before the delay too, a retry after it passes; the sender's
// domain is then remembered (another recipient is not greylisted). Off by default. A
// DMARC-aligned known sender (SPF and DMARC on the test DNS server) is not greylisted from
// another network when SPF passes there; a forger of that domain still is.
import { afterAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startTestDns } from "../helpers/dns-server.ts";
import { mailbox, pySend, swaks } from "../helpers/smtp.ts";
import smtp from "../../plugins/smtp/index.ts";
import mailauth from "../../plugins/mailauth/index.ts";
import junk from "../../plugins/junk/index.ts";
import greylist from "../../plugins/greylist/index.ts";
import { LayeredModel, MemoryModel, score } from "../../plugins/junk/bayes.ts";
import { loadCorpus } from "../../plugins/junk/corpus.ts";
import { loadSeed } from "../../plugins/junk/seed.ts";
import { tokenize } from "../../plugins/junk/tokenize.ts";

const USERS = [
  { address: "alice@example.test", password: "alice-pw-1" },
  { address: "bob@example.test", password: "bob-pw-1" },
];
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
});

const send = (s: TestServer, to: string) => swaks(s.port("smtp"), ["--to", to, "--from", "news@sender.test", "--body", "hello"]);

test("first attempt deferred, retry after the delay accepted, the sender remembered", async () => {
  const s = await startTestServer({ users: USERS, plugins: [smtp, greylist], config: { greylist: { enabled: true, delaySeconds: 2 } } });
  servers.push(s);
  const first = await send(s, "alice@example.test");
  expect(first.code).not.toBe(0);
  expect(first.stdout).toMatch(/<\*\* 451 4\.7\.1 Greylisted, please try again in [12] seconds/);
  const early = await send(s, "alice@example.test");
  expect(early.stdout).toContain("451 4.7.1 Greylisted");
  await Bun.sleep(2100);
  expect((await send(s, "alice@example.test")).code).toBe(0);
  expect(await mailbox(s, "alice@example.test")).toHaveLength(1);
  // Passed senders are remembered for their network: another recipient goes straight through.
  expect((await send(s, "bob@example.test")).code).toBe(0);
}, 60_000);

test("off by default", async () => {
  const s = await startTestServer({ users: USERS, plugins: [smtp, greylist] });
  servers.push(s);
  expect((await send(s, "alice@example.test")).code).toBe(0);
}, 30_000);

test("a DMARC-aligned sender whose mail was kept skips greylisting from another network when SPF passes; a forger does not", async () => {
  const dns = await startTestDns({
    // shop.test's servers: 127.0.0.0/16 (the test connects from 127.0.0.1 and 127.0.9.9).
    "shop.test": { TXT: ["v=spf1 ip4:127.0.0.0/16 -all"] },
    "_dmarc.shop.test": { TXT: ["v=DMARC1; p=none"] },
  });
  const s = await startTestServer({ users: USERS, plugins: [smtp, mailauth, greylist, junk], config: { greylist: { enabled: true, delaySeconds: 1 }, dns: { servers: [dns.server], timeout: "1s" } } });
  servers.push(s);
  try {
    const from = (ip: string, to: string, envelope = "orders@shop.test") =>
      swaks(s.port("smtp"), ["--to", to, "--from", envelope, "--h-From", "<orders@shop.test>", "--local-interface", ip, "--body", "Your order has shipped."]);
    expect((await from("127.0.0.1", "alice@example.test")).stdout).toContain("451 4.7.1 Greylisted");
    await Bun.sleep(1100);
    expect((await from("127.0.0.1", "alice@example.test")).code).toBe(0);
    const [kept] = await mailbox(s, "alice@example.test");
    expect(kept).toMatch(/dmarc=pass[^;]*header\.from=shop\.test/);
    // Another network (127.0.9.0/24) that shop.test's SPF authorizes: not greylisted.
    expect((await from("127.0.9.9", "bob@example.test")).code).toBe(0);
    // A network outside shop.test's SPF claiming to be shop.test: greylisted as usual.
    expect((await from("127.1.0.9", "bob@example.test")).stdout).toContain("451 4.7.1 Greylisted");
    // An envelope domain that DMARC did not align with is not remembered: esp.test is greylisted elsewhere.
    expect((await from("127.0.0.1", "alice@example.test", "bounce@esp.test")).stdout).toContain("451 4.7.1 Greylisted");
    await Bun.sleep(1100);
    expect((await from("127.0.0.1", "alice@example.test", "bounce@esp.test")).code).toBe(0);
    expect((await from("127.0.9.9", "bob@example.test", "bounce@esp.test")).stdout).toContain("451 4.7.1 Greylisted");
  } finally {
    await dns.close();
  }
}, 60_000);

test("a DMARC-aligned sender whose mail was filed into Junk is not remembered", async () => {
  const dns = await startTestDns({ "deals.test": { TXT: ["v=spf1 ip4:127.0.0.0/16 -all"] }, "_dmarc.deals.test": { TXT: ["v=DMARC1; p=none"] } });
  const s = await startTestServer({ users: USERS, plugins: [smtp, mailauth, greylist, junk], config: { greylist: { enabled: true, delaySeconds: 1 }, dns: { servers: [dns.server], timeout: "1s" } } });
  servers.push(s);
  try {
    // A spam of the SpamAssassin corpus that a new account's seed model files into Junk, sent as deals.test.
    const seed = new LayeredModel(new MemoryModel(), loadSeed());
    const asDeals = (m: Uint8Array) =>
      Buffer.from(m)
        .toString("latin1")
        .replace(/^From:.*(\r\n[ \t].*)*/im, "From: <promo@deals.test>");
    const spam = loadCorpus()
      .spam.map(asDeals)
      .find(
        (m) => /^From: <promo@deals\.test>/m.test(m) && !/[^\x00-\x7f]/.test(m) && m.split("\r\n").every((l) => l.length <= 998 && l !== ".") && score(tokenize(Buffer.from(m)), seed).prob >= 0.995,
      )!;
    expect(spam).toBeDefined();
    const send = () => pySend(s.port("smtp"), { from: "promo@deals.test", to: ["alice@example.test"], msg: spam });
    expect(JSON.stringify(await send())).toContain("Greylisted");
    await Bun.sleep(1100);
    expect((await send()).ok).toBe(true);
    const [junked] = await mailbox(s, "alice@example.test", "Junk");
    expect(junked).toMatch(/dmarc=pass[^;]*header\.from=deals\.test/);
    expect(junked).toMatch(/^X-Spam-Score: \S+ \(junk; kotakpos bayes\)/m);
    // Junked, so not a known sender: from another network it is greylisted.
    const other = await swaks(s.port("smtp"), ["--to", "bob@example.test", "--from", "promo@deals.test", "--h-From", "<promo@deals.test>", "--local-interface", "127.0.9.9", "--body", "hello"]);
    expect(other.stdout).toContain("451 4.7.1 Greylisted");
  } finally {
    await dns.close();
  }
}, 60_000);
