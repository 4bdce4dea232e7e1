import { spyOn, test, expect } from "bun:test";
import { join } from "node:path";
import { openDb } from "../db/open.ts";
import { DOMAINS_TTL_MS } from "./accounts.ts";
import { createStore } from "./index.ts";
import { storeFixture, msg, silentLog, type TestStore } from "./test-helpers.ts";
import { isStoreError } from "./errors.ts";

let t: TestStore;
storeFixture((f) => void (t = f));

test("domains: lower-case Unicode, punycode converted, idempotent add, delete rules", async () => {
  const d = await t.store.addDomain("XN--BCHER-KVA.Example.");
  expect(d.name).toBe("bücher.example");
  expect((await t.store.addDomain("bücher.example")).id).toBe(d.id);
  expect(await t.store.isLocalDomain("xn--bcher-kva.example")).toBe(true);
  expect(await t.store.isLocalDomain("BÜCHER.example")).toBe(true);
  expect(await t.store.isLocalDomain("other.example")).toBe(false);
  expect(await t.store.isLocalDomain("bad domain")).toBe(false);
  await t.store.createAccount("a@xn--bcher-kva.example", "pw");
  expect((await t.store.getAccount("A@BÜCHER.EXAMPLE"))!.address).toBe("a@bücher.example");
  await expect(t.store.deleteDomain("bücher.example")).rejects.toMatchObject({ code: "INUSE" });
  await t.store.deleteAccount("a@bücher.example");
  expect(await t.store.deleteDomain("bücher.example")).toBe(true);
  expect(await t.store.deleteDomain("bücher.example")).toBe(false);
  expect(await t.store.listDomains()).toEqual([]);
});

test("domains are cached between own writes: an add, a delete, an account's new domain show at once", async () => {
  const reads = spyOn(t.db, "query");
  expect(await t.store.isLocalDomain("c.test")).toBe(false);
  const before = reads.mock.calls.length;
  for (let i = 0; i < 5; i++) expect(await t.store.isLocalDomain("c.test")).toBe(false);
  expect((await t.store.listDomains()).length).toBe(0);
  expect(reads.mock.calls.length).toBe(before); // answered from the cache
  await t.store.addDomain("c.test");
  expect(await t.store.isLocalDomain("C.TEST")).toBe(true);
  await t.store.createAccount("x@d.test", "pw");
  expect(await t.store.isLocalDomain("d.test")).toBe(true);
  expect((await t.store.listDomains()).map((d) => d.name)).toEqual(["c.test", "d.test"]);
  // A caller changing the list it got does not change the cache.
  (await t.store.listDomains())[0]!.name = "changed.test";
  expect((await t.store.listDomains())[0]!.name).toBe("c.test");
  expect(await t.store.deleteDomain("c.test")).toBe(true);
  expect(await t.store.isLocalDomain("c.test")).toBe(false);
  reads.mockRestore();
});

test("a domain added by another process writing the database file shows within DOMAINS_TTL_MS", async () => {
  expect(await t.store.isLocalDomain("e.test")).toBe(false); // now cached
  // What an admin command does when it cannot reach the server's control socket.
  const other = await openDb({ url: `file:${join(t.dir, "k.db")}` });
  const store2 = await createStore({ db: other, blobDir: t.blobDir, log: silentLog, gc: { intervalMs: 0 } });
  await store2.addDomain("e.test");
  await store2.close();
  await other.close();
  await Bun.sleep(DOMAINS_TTL_MS + 50);
  expect(await t.store.isLocalDomain("e.test")).toBe(true);
});

test("accounts: create, duplicate, lookup, list by domain, invalid addresses", async () => {
  const a = await t.store.createAccount("alice@a.test", "pw");
  await t.store.createAccount("bob@b.test", "pw");
  await t.store.createAccount("carol@a.test", "pw");
  await expect(t.store.createAccount("ALICE@a.test", "x")).rejects.toMatchObject({ code: "ALREADYEXISTS" });
  await expect(t.store.createAccount("no-at-sign", "x")).rejects.toMatchObject({ code: "INVALID" });
  await expect(t.store.createAccount("@a.test", "x")).rejects.toMatchObject({ code: "INVALID" });
  expect((await t.store.getAccountById(a.id))!.address).toBe("alice@a.test");
  expect(await t.store.getAccount("nobody@a.test")).toBeNull();
  expect(await t.store.getAccount("garbage")).toBeNull();
  expect((await t.store.listAccounts("a.test")).map((x) => x.address)).toEqual(["alice@a.test", "carol@a.test"]);
  expect((await t.store.listAccounts()).length).toBe(3);
  expect((await t.store.listDomains()).map((d) => d.name)).toEqual(["a.test", "b.test"]);
  // Batched lookup (alias expansion): keyed by the address asked for; caseFold finds
  // stored spellings that differ only in case.
  const found = await t.store.findAccounts(["alice@a.test", "bob@b.test", "nobody@a.test", "CAROL@a.test", "alice@a.test"]);
  expect([...found.keys()].sort()).toEqual(["alice@a.test", "bob@b.test"]);
  expect(found.get("alice@a.test")!.id).toBe(a.id);
  const folded = await t.store.findAccounts(["nobody@a.test", "CAROL@a.test"], { caseFold: true });
  expect([...folded].map(([k, v]) => `${k}=${v.address}`)).toEqual(["CAROL@a.test=carol@a.test"]);
  expect((await t.store.findAccounts([])).size).toBe(0);
});

test("passwords: argon2id, verify, wrong, unknown user, change", async () => {
  await t.store.createAccount("u@a.test", "s3cret");
  const row = await t.db.client.execute("SELECT password_hash FROM accounts");
  expect(String(row.rows[0]![0])).toStartWith("$argon2id$");
  expect((await t.store.verifyPassword("U@A.test", "s3cret"))!.address).toBe("u@a.test");
  expect(await t.store.verifyPassword("u@a.test", "wrong")).toBeNull();
  expect(await t.store.verifyPassword("ghost@a.test", "s3cret")).toBeNull();
  expect(await t.store.verifyPassword("not an address", "s3cret")).toBeNull();
  expect(await t.store.setPassword("u@a.test", "new")).toBe(true);
  expect(await t.store.setPassword("ghost@a.test", "new")).toBe(false);
  expect(await t.store.verifyPassword("u@a.test", "s3cret")).toBeNull();
  expect(await t.store.verifyPassword("u@a.test", "new")).not.toBeNull();
  // disabled accounts never authenticate
  await t.db.client.execute("UPDATE accounts SET disabled = 1");
  expect(await t.store.verifyPassword("u@a.test", "new")).toBeNull();
});

test("a repeated login is answered from the credential cache, without argon2; a wrong password never is", async () => {
  await t.store.createAccount("c@a.test", "pw-c");
  const verify = spyOn(Bun.password, "verify");
  try {
    expect(await t.store.verifyPassword("c@a.test", "pw-c")).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i++) expect(await t.store.verifyPassword("C@a.test", "pw-c")).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 2; i++) expect(await t.store.verifyPassword("c@a.test", "pw-x")).toBeNull();
    expect(verify).toHaveBeenCalledTimes(3);
  } finally {
    verify.mockRestore();
  }
});

test("deleteAccount drops mailboxes, messages and blob references", async () => {
  const a = await t.store.createAccount("u@a.test", "pw");
  const b = await t.store.createAccount("v@a.test", "pw");
  const inboxA = (await t.store.getMailbox(a.id, "INBOX"))!;
  const inboxB = (await t.store.getMailbox(b.id, "INBOX"))!;
  const shared = msg("shared");
  await t.store.append(inboxA.id, shared);
  await t.store.append(inboxA.id, msg("only a"));
  await t.store.append(inboxB.id, shared);
  expect(await t.store.deleteAccount("u@a.test")).toBe(true);
  expect(await t.store.deleteAccount("u@a.test")).toBe(false);
  expect(await t.store.getMailboxById(inboxA.id)).toBeNull();
  const blobs = await t.db.client.execute("SELECT refcount FROM blobs ORDER BY refcount");
  expect(blobs.rows.map((r) => Number(r.refcount))).toEqual([0, 1]);
  // B's copy of the shared blob is still readable
  const [m] = await t.store.messages(inboxB.id);
  expect(new TextDecoder().decode(await t.store.read(m!))).toContain("Subject: shared");
});

test("errors are typed StoreErrors", async () => {
  try {
    await t.store.createMailbox(999, "x");
    throw new Error("not reached");
  } catch (e) {
    expect(isStoreError(e, "NONEXISTENT")).toBe(true);
  }
});

test("onAccountGone: told once per disable or delete, after the commit; not on enable or an unknown address", async () => {
  const a = await t.store.createAccount("gone@a.test", "pw");
  const seen: string[] = [];
  const off = t.store.onAccountGone((ev) => seen.push(`${ev.accountId}:${ev.address}:${ev.reason}`));
  expect(await t.store.setDisabled("GONE@a.test", true)).toBe(true);
  expect(await t.store.setDisabled("gone@a.test", false)).toBe(true);
  expect(await t.store.setDisabled("nobody@a.test", true)).toBe(false);
  expect(await t.store.deleteAccount("gone@a.test")).toBe(true);
  expect(await t.store.deleteAccount("gone@a.test")).toBe(false);
  expect(seen).toEqual([`${a.id}:gone@a.test:disabled`, `${a.id}:gone@a.test:deleted`]);
  off();
});
