import { afterAll, beforeAll, expect, test } from "bun:test";
import { aliases } from "./schema.ts";
import { testDb, type TestDb } from "../../tests/aliases/db.ts";
import { dbDirectory } from "./directory.ts";
import { createExpander, type ExpandConfig, type Expansion } from "./expand.ts";

let t: TestDb;
const ids: Record<string, number> = {};
const cfg: ExpandConfig = { caseSensitive: false, separator: "+", tagFolder: true, maxDepth: 4, maxExpansion: 50 };

async function alias(address: string, targets: string[], extra: { kind?: string; membersOnly?: boolean } = {}) {
  await t.db.write((tx) => tx.orm.insert(aliases).values({ address, targets: JSON.stringify(targets), createdAt: 0, ...extra }));
}

beforeAll(async () => {
  t = await testDb();
  await t.domain("example.com");
  await t.domain("example.org", { aliasOf: "example.com" });
  await t.domain("bücher.example");
  await t.domain("legacy.example", { catchAll: "alice@example.com" });
  await t.domain("loop-a.example");
  await t.domain("loop-b.example", { aliasOf: "loop-a.example" });
  for (const u of ["alice", "bob", "carol", "dave"]) ids[u] = await t.user(`${u}@example.com`, { folders: u === "bob" ? ["Lists"] : [] });
  ids.Erin = await t.user("Erin@example.com");
  ids.off = await t.user("off@example.com", { disabled: true });
  ids.klaus = await t.user("klaus@bücher.example");
  await alias("team@example.com", ["alice@example.com", "bob@example.com", "devs@example.com"], { kind: "group" });
  await alias("devs@example.com", ["bob@example.com", "carol@example.com", "ALICE@example.org"], { kind: "group" });
  await alias("sales@example.com", ["alice@example.com", "partner@remote.test", "Partner@REMOTE.test"]);
  await alias("loop1@example.com", ["loop2@example.com"]);
  await alias("loop2@example.com", ["loop3@example.com", "alice@example.com"]);
  await alias("loop3@example.com", ["loop1@example.com"]);
  await alias("d1@example.com", ["d2@example.com"]);
  await alias("d2@example.com", ["d3@example.com"]);
  await alias("d3@example.com", ["d4@example.com"]);
  await alias("d4@example.com", ["d5@example.com"]);
  await alias("d5@example.com", ["alice@example.com"]);
  await alias("dead@example.com", ["nobody@example.com", "off@example.com"]);
  await alias("keep@example.com", ["keep@example.com"]);
  await alias("dave@example.com", ["dave@example.com", "dave@elsewhere.test"]);
  await alias(
    "big@example.com",
    Array.from({ length: 60 }, (_, i) => `u${i}@remote.test`),
  );
  await alias("diamond@example.com", ["left@example.com", "right@example.com"]);
  await alias("left@example.com", ["carol@example.com"]);
  await alias("right@example.com", ["carol@example.com"]);
  await alias("@bücher.example", ["klaus@bücher.example"]);
});
afterAll(() => t.close());

const exp = (a: string, c: Partial<ExpandConfig> = {}) => createExpander(dbDirectory(t), { ...cfg, ...c }).expand(a);
function ok(e: Expansion) {
  if (e.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(e)}`);
  return e;
}
const accountsOf = (e: Expansion) =>
  ok(e)
    .local.map((l) => l.accountId)
    .sort();

test("a group with overlapping nested members delivers once per account", async () => {
  const e = ok(await exp("team@example.com"));
  expect(accountsOf(e)).toEqual([ids.alice!, ids.bob!, ids.carol!].sort());
  expect(e.local.every((l) => l.mailbox === "INBOX")).toBe(true);
  expect(e.remote).toEqual([]);
  expect(e.members.has("carol@example.com")).toBe(true);
  expect(e.members.has("devs@example.com")).toBe(true);
});

test("a diamond is not a loop", async () => {
  expect(accountsOf(await exp("diamond@example.com"))).toEqual([ids.carol!]);
});

test("remote targets are kept once", async () => {
  const e = ok(await exp("SALES@Example.com"));
  expect(e.address).toBe("sales@example.com");
  expect(accountsOf(e)).toEqual([ids.alice!]);
  expect(e.remote).toEqual(["partner@remote.test"]);
});

test("a loop is an error naming the path", async () => {
  const e = await exp("loop1@example.com");
  expect(e.kind).toBe("error");
  if (e.kind !== "error") return;
  expect(e.error).toEqual({ kind: "loop", path: ["loop1@example.com", "loop2@example.com", "loop3@example.com", "loop1@example.com"] });
  expect(e.message).toContain("alias loop: loop1@example.com -> loop2@example.com");
  // Entering the loop from inside is the same loop.
  expect((await exp("loop3@example.com")).kind).toBe("error");
});

test("nesting deeper than maxDepth is refused", async () => {
  expect(await exp("d2@example.com")).toMatchObject({ kind: "ok" });
  const e = await exp("d1@example.com");
  expect(e).toMatchObject({ kind: "error", error: { kind: "depth", limit: 4 } });
  expect(accountsOf(await exp("d1@example.com", { maxDepth: 5 }))).toEqual([ids.alice!]);
});

test("more addresses than maxExpansion is refused", async () => {
  expect(await exp("big@example.com")).toMatchObject({ kind: "error", error: { kind: "too-many", limit: 50 } });
  expect(ok(await exp("big@example.com", { maxExpansion: 100 })).remote).toHaveLength(60);
});

test("plus-addressing: to the user, into the tag's folder when it exists", async () => {
  const e = ok(await exp("bob+lists@example.com"));
  expect(e.local).toEqual([{ accountId: ids.bob!, address: "bob@example.com", mailbox: "Lists" }]);
  expect(ok(await exp("bob+nofolder@example.com")).local[0]!.mailbox).toBe("INBOX");
  expect(ok(await exp("bob+lists@example.com", { tagFolder: false })).local[0]!.mailbox).toBe("INBOX");
  expect(ok(await exp("bob-lists@example.com", { separator: "-" })).local[0]!.mailbox).toBe("Lists");
  expect(await exp("bob+lists@example.com", { separator: "" })).toMatchObject({ kind: "unknown" });
  // An alias with a tag is the alias.
  expect(accountsOf(await exp("team+x@example.com"))).toHaveLength(3);
});

test("case-insensitive local parts, also for accounts stored with capitals", async () => {
  expect(accountsOf(await exp("ALICE@example.com"))).toEqual([ids.alice!]);
  expect(accountsOf(await exp("erin@example.com"))).toEqual([ids.Erin!]);
  expect(await exp("erin@example.com", { caseSensitive: true })).toMatchObject({ kind: "unknown" });
});

test("domain alias: example.org is example.com", async () => {
  const e = ok(await exp("carol@example.org"));
  expect(e.address).toBe("carol@example.com");
  expect(accountsOf(e)).toEqual([ids.carol!]);
  expect(await exp("nobody@example.org")).toEqual({ kind: "unknown", address: "nobody@example.com", rewritten: true });
});

test("IDN: punycode and UTF-8 reach the same catch-all and account", async () => {
  expect(accountsOf(await exp("klaus@xn--bcher-kva.example"))).toEqual([ids.klaus!]);
  expect(accountsOf(await exp("anything@XN--BCHER-KVA.example"))).toEqual([ids.klaus!]);
  expect(accountsOf(await exp("anything@bücher.example"))).toEqual([ids.klaus!]);
});

test("catch-all only where there is one", async () => {
  expect(await exp("nobody@example.com")).toEqual({ kind: "unknown", address: "nobody@example.com", rewritten: false });
  expect(accountsOf(await exp("whoever@legacy.example"))).toEqual([ids.alice!]);
});

test("unknown and disabled targets are skipped, reported", async () => {
  const e = ok(await exp("dead@example.com"));
  expect(e.local).toEqual([]);
  expect(e.skipped.sort()).toEqual(["nobody@example.com", "off@example.com"]);
  expect(await exp("off@example.com")).toEqual({ kind: "disabled", address: "off@example.com" });
});

test("a target equal to its alias is the account (forward and keep a copy); without one it loops", async () => {
  const e = ok(await exp("dave@example.com"));
  expect(accountsOf(e)).toEqual([ids.dave!]);
  expect(e.remote).toEqual(["dave@elsewhere.test"]);
  expect(await exp("keep@example.com")).toMatchObject({ kind: "error", error: { kind: "loop" } });
});

test("remote and malformed addresses are not ours", async () => {
  expect(await exp("x@remote.test")).toEqual({ kind: "notlocal" });
  expect(await exp("postmaster")).toEqual({ kind: "notlocal" });
});

test("a domain alias loop is an error", async () => {
  // loop-a → loop-b made by hand (the admin refuses it).
  const { aliasDomains } = await import("./schema.ts");
  const all = await t.store.listDomains();
  const id = (name: string) => all.find((d) => d.name === name)!.id;
  await t.db.write((tx) => tx.orm.insert(aliasDomains).values({ domainId: id("loop-a.example"), aliasOf: id("loop-b.example") }));
  expect(await exp("x@loop-b.example")).toMatchObject({ kind: "error", error: { kind: "domain-loop" } });
});
