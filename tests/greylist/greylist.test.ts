// Greylisting with swaks as the sending MTA (issue 22): the first attempt is deferred
// with 451 4.7.1, a retry before the delay too, a retry after it passes; the sender's
// domain is then remembered (another recipient is not greylisted). Off by default.
import { afterAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { mailbox, swaks } from "../helpers/smtp.ts";
import smtp from "../../plugins/smtp/index.ts";
import greylist from "../../plugins/greylist/index.ts";

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
