import { afterAll, beforeAll, expect, test } from "bun:test";
import { testDb, type TestDb } from "../../tests/aliases/db.ts";
import { AliasAdminError, addAlias, addDomainAlias, getAlias, listAliases, listDomainAliases, removeAlias, removeCatchAll, removeDomainAlias, setCatchAll } from "./admin.ts";

let t: TestDb;
beforeAll(async () => {
  t = await testDb();
  await t.domain("example.com");
  await t.domain("xn--bcher-kva.example"); // stored in its ASCII form
  for (const u of ["alice", "bob", "carol"]) await t.user(`${u}@example.com`);
  await t.user("Dora@example.com");
});
afterAll(() => t.close());

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AliasAdminError);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

test("add, extend, replace, list, remove targets, delete", async () => {
  const a = await addAlias(t, { address: "Support@Example.COM", targets: ["alice@example.com", "Bob@example.com"] });
  expect(a).toEqual({ address: "support@example.com", targets: ["alice@example.com", "bob@example.com"], kind: "alias", membersOnly: false, senders: [] });
  const b = await addAlias(t, { address: "support@example.com", targets: ["carol@example.com", "x@Remote.TEST"] });
  expect(b.targets).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", "x@remote.test"]);
  const c = await addAlias(t, { address: "support@example.com", targets: ["carol@example.com"] }, { replace: true });
  expect(c.targets).toEqual(["carol@example.com"]);
  expect((await listAliases(t)).map((r) => r.address)).toContain("support@example.com");
  await addAlias(t, { address: "support@example.com", targets: ["alice@example.com"] });
  expect(await removeAlias(t, "support@example.com", ["CAROL@example.com"])).toMatchObject({ deleted: false, row: { targets: ["alice@example.com"] } });
  expect(await refused(removeAlias(t, "support@example.com", ["nobody@example.com"]))).toContain("none of these targets");
  expect(await removeAlias(t, "support@example.com", ["alice@example.com"])).toEqual({ deleted: true, row: null });
  expect(await getAlias(t, "support@example.com")).toBeNull();
  expect(await refused(removeAlias(t, "support@example.com"))).toContain("no alias");
});

test("groups, members-only, senders", async () => {
  const g = await addAlias(t, { address: "board@example.com", targets: ["alice@example.com", "bob@example.com"], membersOnly: true, senders: ["carol@example.com", "dora@example.com"] });
  expect(g).toMatchObject({ kind: "group", membersOnly: true, senders: ["carol@example.com", "dora@example.com"] });
  expect(await refused(addAlias(t, { address: "x@example.com", targets: ["alice@example.com"], senders: ["ghost@example.com"] }))).toContain("ghost@example.com is not a user");
  // Members-only turns an alias into a group; adding a member keeps the flags.
  await addAlias(t, { address: "y@example.com", targets: ["alice@example.com"] });
  expect(await addAlias(t, { address: "y@example.com", targets: [], membersOnly: true })).toMatchObject({ kind: "group", membersOnly: true });
  expect(await addAlias(t, { address: "y@example.com", targets: ["bob@example.com"] })).toMatchObject({ kind: "group", membersOnly: true, targets: ["alice@example.com", "bob@example.com"] });
});

test("a loop is refused with the path, and nothing is written", async () => {
  // l2 does not exist yet: refused as a dead target.
  expect(await refused(addAlias(t, { address: "l1@example.com", targets: ["l2@example.com"] }))).toContain("no such user or alias: l2@example.com");
  await addAlias(t, { address: "l2@example.com", targets: ["alice@example.com"] });
  await addAlias(t, { address: "l1@example.com", targets: ["l2@example.com"] });
  const msg = await refused(addAlias(t, { address: "l2@example.com", targets: ["l1@example.com"] }));
  expect(msg).toBe("refused: alias loop: l2@example.com -> l1@example.com -> l2@example.com");
  expect((await getAlias(t, "l2@example.com"))!.targets).toEqual(["alice@example.com"]);
  expect(await refused(addAlias(t, { address: "self@example.com", targets: ["self@example.com"] }))).toContain("alias loop");
});

test("an alias may not hide a user unless it keeps a copy", async () => {
  expect(await refused(addAlias(t, { address: "bob@example.com", targets: ["bob@remote.test"] }))).toContain("is a user");
  const r = await addAlias(t, { address: "bob@example.com", targets: ["bob@example.com", "bob@remote.test"] });
  expect(r.targets).toEqual(["bob@example.com", "bob@remote.test"]);
  await removeAlias(t, "bob@example.com");
});

test("bad input is refused with a clear message", async () => {
  expect(await refused(addAlias(t, { address: "not an address", targets: ["a@example.com"] }))).toContain("is not an address");
  expect(await refused(addAlias(t, { address: "a@nowhere.example", targets: ["alice@example.com"] }))).toContain("nowhere.example is not a local domain");
  expect(await refused(addAlias(t, { address: "a@example.com", targets: ["bad target"] }))).toContain('target "bad target"');
  expect(await refused(addAlias(t, { address: "a@example.com", targets: [] }))).toContain("at least one target");
});

test("catch-all: set, replace, remove; IDN domain stored in ASCII", async () => {
  const c = await setCatchAll(t, "bücher.example", ["alice@example.com"]);
  expect(c.address).toBe("@xn--bcher-kva.example");
  expect((await setCatchAll(t, "@xn--bcher-kva.example", ["bob@example.com"])).targets).toEqual(["bob@example.com"]);
  // A catch-all whose target is unknown in its own domain would loop through itself.
  expect(await refused(setCatchAll(t, "example.com", ["typo@example.com"]))).toContain("loop");
  expect(await removeCatchAll(t, "bücher.example")).toBe(true);
  expect(await removeCatchAll(t, "bücher.example")).toBe(false);
});

test("domain aliases: add, refuse loops and hidden users, list, remove", async () => {
  expect(await addDomainAlias(t, "Example.ORG", "example.com")).toEqual({ domain: "example.org", target: "example.com" });
  expect(await addDomainAlias(t, "example.net", "example.org")).toEqual({ domain: "example.net", target: "example.com" });
  expect(await refused(addDomainAlias(t, "example.com", "example.org"))).toContain("loop");
  expect(await refused(addDomainAlias(t, "example.com", "xn--bcher-kva.example"))).toContain("has users");
  expect(await refused(addAlias(t, { address: "x@example.org", targets: ["alice@example.com"] }))).toContain("is an alias of example.com");
  const al = await addAlias(t, { address: "viaorg@example.com", targets: ["carol@example.org"] });
  expect(al.targets).toEqual(["carol@example.com"]);
  expect(await listDomainAliases(t)).toEqual([
    { domain: "example.net", target: "example.com" },
    { domain: "example.org", target: "example.com" },
  ]);
  expect(await removeDomainAlias(t, "example.net")).toBe(true);
  expect(await removeDomainAlias(t, "example.net")).toBe(false);
  expect(await removeDomainAlias(t, "example.com")).toBe(false);
});
