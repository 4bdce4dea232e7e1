import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../core/log.ts";
import type { Address, AuthUser } from "../../core/types.ts";
import { testDb, type TestDb } from "../../tests/aliases/db.ts";
import { addAlias, setCatchAll } from "./admin.ts";
import { dbDirectory } from "./directory.ts";
import { createRouter, type Router } from "./route.ts";
import { srsForward } from "./srs.ts";

let t: TestDb;
let r: Router;
const ids: Record<string, number> = {};
const srs = { secret: "k", maxAgeDays: 21, domain: "", rewrite: true };

function addr(a: string): Address {
  const at = a.lastIndexOf("@");
  return { address: a, local: a.slice(0, at), domain: a.slice(at + 1).toLowerCase(), params: {} };
}
const txn = (from: string, user?: AuthUser) => ({ id: "t1", mailFrom: addr(from), user });

beforeAll(async () => {
  t = await testDb();
  await t.domain("example.com");
  await t.domain("other.example");
  for (const u of ["alice", "bob", "carol"]) ids[u] = await t.user(`${u}@example.com`);
  await addAlias(t, { address: "board@example.com", targets: ["alice@example.com", "bob@example.com"], membersOnly: true });
  await addAlias(t, { address: "fwd@example.com", targets: ["friend@remote.test", "carol@example.com"] });
  await addAlias(t, { address: "info@example.com", targets: ["alice@example.com"], senders: ["bob@example.com"] });
  await setCatchAll(t, "other.example", ["carol@example.com"]);
  await addAlias(t, { address: "shared@other.example", targets: ["carol@example.com"] });
  await addAlias(t, { address: "@other.example", targets: ["carol@example.com"], senders: ["carol@example.com"] });
  const log = createLogger("error");
  r = createRouter({ dir: dbDirectory(t), expand: { caseSensitive: false, separator: "+", tagFolder: false, maxDepth: 10, maxExpansion: 1000 }, srs, log });
});
afterAll(() => t.close());

test("a forward to another domain carries an SRS sender; local copies do not need one", async () => {
  const route = await r.route(txn("sender@origin.test"), addr("fwd@example.com"));
  expect(route).toMatchObject({ local: [{ accountId: ids.carol, mailbox: "INBOX" }], remote: [{ address: "friend@remote.test" }] });
  const mf = (route as { remote: { mailFrom?: string }[] }).remote[0]!.mailFrom!;
  expect(mf).toMatch(/^SRS0=[a-z2-7]{6}=[a-z2-7]{2}=origin\.test=sender@example\.com$/);
});

test("no SRS for the null sender nor for our own senders", async () => {
  expect(await r.route(txn(""), addr("fwd@example.com"))).toMatchObject({ remote: [{ address: "friend@remote.test" }] });
  expect(((await r.route(txn(""), addr("fwd@example.com"))) as { remote: object[] }).remote[0]).not.toHaveProperty("mailFrom");
  expect(((await r.route(txn("bob@example.com"), addr("fwd@example.com"))) as { remote: object[] }).remote[0]).not.toHaveProperty("mailFrom");
});

test("a bounce to our SRS address goes back to the original sender", async () => {
  const srsAddr = srsForward("sender@origin.test", "example.com", srs);
  expect(await r.route(txn(""), addr(srsAddr))).toEqual({ kind: "route", local: [], remote: [{ address: "sender@origin.test" }] });
  // The original sender was one of ours: to the mailbox.
  const own = srsForward("bob@example.com", "example.com", srs);
  expect(await r.route(txn(""), addr(own))).toEqual({ kind: "route", local: [{ accountId: ids.bob!, mailbox: "INBOX" }], remote: [] });
});

test("forged or expired SRS addresses are refused", async () => {
  const forged = srsForward("sender@origin.test", "example.com", { ...srs, secret: "wrong" });
  expect(await r.route(txn(""), addr(forged))).toMatchObject({ kind: "reject", reply: { code: 550, enhanced: "5.7.1" } });
  const old = srsForward("sender@origin.test", "example.com", { ...srs, now: () => Date.now() - 30 * 86_400_000 });
  const res = await r.route(txn(""), addr(old));
  expect(res).toMatchObject({ kind: "reject", reply: { code: 550 } });
  expect((res as { reply: { text: string } }).reply.text).toContain("expired");
  // SRS-looking addresses of other domains are not ours to judge.
  expect(await r.route(txn(""), addr("SRS0=abc=de=x.test=y@remote.test"))).toEqual({ kind: "pass" });
});

test("members only: members (by envelope or login, any spelling) post, others get 5.7.1", async () => {
  expect(await r.route(txn("Alice+x@example.com"), addr("board@example.com"))).toMatchObject({ local: [{}, {}] });
  expect(await r.route(txn("someone@else.test", { accountId: ids.bob!, address: "bob@example.com" }), addr("board@example.com"))).toMatchObject({ local: [{}, {}] });
  expect(await r.route(txn("carol@example.com"), addr("board@example.com"))).toMatchObject({ kind: "reject", reply: { code: 550, enhanced: "5.7.1" } });
  expect(await r.route(txn(""), addr("board@example.com"))).toMatchObject({ kind: "reject", reply: { enhanced: "5.7.1" } });
});

test("unknown local users and remote recipients pass to the core's default", async () => {
  expect(await r.route(txn("a@b.test"), addr("nobody@example.com"))).toEqual({ kind: "pass" });
  expect(await r.route(txn("a@b.test"), addr("someone@remote.test"))).toEqual({ kind: "pass" });
  expect(await r.route(txn("a@b.test"), addr("Bob@Example.com"))).toEqual({ kind: "route", local: [{ accountId: ids.bob!, mailbox: "INBOX" }], remote: [] });
});

test("send-as: own address in any spelling, granted aliases, the catch-all grant", async () => {
  const bob = { accountId: ids.bob!, address: "bob@example.com" };
  const carol = { accountId: ids.carol!, address: "carol@example.com" };
  expect(await r.sendAs(bob, "BOB+news@example.com")).toEqual({ kind: "accept" });
  expect(await r.sendAs(bob, "info@example.com")).toEqual({ kind: "accept" });
  expect(await r.sendAs(bob, "Info+x@Example.com")).toEqual({ kind: "accept" });
  expect(await r.sendAs(carol, "info@example.com")).toEqual({ kind: "pass" });
  expect(await r.sendAs(bob, "board@example.com")).toEqual({ kind: "pass" });
  expect(await r.sendAs(carol, "anything@other.example")).toEqual({ kind: "accept" });
  expect(await r.sendAs(bob, "anything@other.example")).toEqual({ kind: "pass" });
  expect(await r.sendAs(bob, "bob@remote.test")).toEqual({ kind: "pass" });
});
