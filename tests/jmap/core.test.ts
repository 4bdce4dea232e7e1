// RFC 8620 §2–5 over raw JSON: the session resource, Core/echo, result references, and the
// documented request- and method-level errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { ALICE, BOB, Jmap, basic, startJmap, USING } from "./helpers.ts";

let srv: TestServer;
let alice: Jmap;
let acct: string;
beforeAll(async () => {
  srv = await startJmap();
  alice = Jmap.for(srv);
  acct = (await alice.session()).accountId;
}, 30_000);
afterAll(async () => {
  await srv.cleanup();
});

test("session resource at both URLs; 401 without or with wrong credentials", async () => {
  const s = (await alice.session()).raw;
  expect(s.username).toBe(ALICE.address);
  expect(Object.keys(s.capabilities)).toEqual(expect.arrayContaining(["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"]));
  expect(s.capabilities["urn:ietf:params:jmap:core"].maxCallsInRequest).toBeGreaterThan(0);
  expect(s.accounts[acct].accountCapabilities["urn:ietf:params:jmap:mail"].maxMailboxesPerEmail).toBe(1);
  expect(s.apiUrl).toBe(`${alice.base}/jmap/api`);
  const again = await (await alice.fetch("/jmap/session")).json();
  expect(again).toEqual(s);
  const none = await fetch(`${alice.base}/.well-known/jmap`);
  expect(none.status).toBe(401);
  expect(none.headers.get("www-authenticate")).toContain("Basic");
  const wrong = await fetch(`${alice.base}/jmap/api`, { method: "POST", headers: { authorization: basic({ address: ALICE.address, password: "nope" }) }, body: "{}" });
  expect(wrong.status).toBe(401);
});

test("RFC 8620 §3.3 example shape: Core/echo returns its arguments", async () => {
  const r = await alice.post({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", { hello: true, high: 5 }, "b3ff"]] });
  expect(r.status).toBe(200);
  expect(r.json.methodResponses).toEqual([["Core/echo", { hello: true, high: 5 }, "b3ff"]]);
  expect(typeof r.json.sessionState).toBe("string");
});

test("request-level errors (§3.6.1): notJSON, notRequest, unknownCapability, limit", async () => {
  const bad = await alice.post("{not json");
  expect(bad.status).toBe(400);
  expect(bad.json.type).toBe("urn:ietf:params:jmap:error:notJSON");
  expect((await alice.post({ using: "x", methodCalls: [] })).json.type).toBe("urn:ietf:params:jmap:error:notRequest");
  expect((await alice.post({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", [], "c1"]] })).json.type).toBe("urn:ietf:params:jmap:error:notRequest");
  const unk = await alice.post({ using: ["urn:ietf:params:jmap:core", "urn:example:nope"], methodCalls: [] });
  expect(unk.status).toBe(400);
  expect(unk.json.type).toBe("urn:ietf:params:jmap:error:unknownCapability");
  const max = (await alice.session()).raw.capabilities["urn:ietf:params:jmap:core"].maxCallsInRequest as number;
  const many = await alice.post({ using: ["urn:ietf:params:jmap:core"], methodCalls: Array.from({ length: max + 1 }, (_, i) => ["Core/echo", {}, `c${i}`]) });
  expect(many.status).toBe(400);
  expect(many.json).toMatchObject({ type: "urn:ietf:params:jmap:error:limit", limit: "maxCallsInRequest" });
});

test("method-level errors: unknownMethod, missing capability, invalidArguments, other account forbidden", async () => {
  const r = await alice.call([
    ["Foo/bar", {}, "a"],
    ["Mailbox/get", { accountId: 5 }, "b"],
    ["Mailbox/get", { accountId: "a999999" }, "c"],
  ]);
  expect(r[0]).toEqual(["error", { type: "unknownMethod", description: expect.any(String) }, "a"]);
  expect(r[1]![1].type).toBe("invalidArguments");
  expect(r[2]![1].type).toBe("accountNotFound");
  const noMail = await alice.call([["Mailbox/get", { accountId: acct }, "m"]], ["urn:ietf:params:jmap:core"]);
  expect(noMail[0]![1].type).toBe("unknownMethod");
  // Bob's account id: forbidden, and none of his data comes back.
  const bobAcct = (await Jmap.for(srv, BOB).session()).accountId;
  const f = await alice.call([
    ["Mailbox/get", { accountId: bobAcct }, "x"],
    ["Email/query", { accountId: bobAcct }, "y"],
  ]);
  expect(f.map((x) => [x[0], x[1].type])).toEqual([
    ["error", "forbidden"],
    ["error", "forbidden"],
  ]);
  expect(JSON.stringify(f)).not.toContain("INBOX");
});

test("result references (§3.7): resolved through paths with *, and to nowhere → invalidResultReference", async () => {
  const r = await alice.call([
    ["Mailbox/query", { accountId: acct, filter: { role: "inbox" } }, "0"],
    ["Mailbox/get", { accountId: acct, "#ids": { resultOf: "0", name: "Mailbox/query", path: "/ids" }, properties: ["name", "role"] }, "1"],
    ["Core/echo", { "#names": { resultOf: "1", name: "Mailbox/get", path: "/list/*/name" } }, "2"],
    ["Mailbox/get", { accountId: acct, "#ids": { resultOf: "nope", name: "Mailbox/query", path: "/ids" } }, "3"],
    ["Mailbox/get", { accountId: acct, "#ids": { resultOf: "0", name: "Mailbox/query", path: "/nothing" } }, "4"],
    ["Mailbox/get", { accountId: acct, ids: [], "#ids": { resultOf: "0", name: "Mailbox/query", path: "/ids" } }, "5"],
  ]);
  expect(r[1]![1].list).toEqual([{ id: expect.any(String), name: "INBOX", role: "inbox" }]);
  expect(r[2]).toEqual(["Core/echo", { names: ["INBOX"] }, "2"]);
  expect(r[3]![1].type).toBe("invalidResultReference");
  expect(r[4]![1].type).toBe("invalidResultReference");
  expect(r[5]![1].type).toBe("invalidArguments");
});

test("an upload over maxSizeUpload is refused; uploads and downloads are per account", async () => {
  const s = (await alice.session()).raw;
  const max = s.capabilities["urn:ietf:params:jmap:core"].maxSizeUpload as number;
  const big = await alice.fetch(`/jmap/upload/${acct}/`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: new Uint8Array(max + 1) });
  expect(big.status).toBe(400);
  expect(await big.json()).toMatchObject({ type: "urn:ietf:params:jmap:error:limit", limit: "maxSizeUpload" });
  const up = await alice.fetch(`/jmap/upload/${acct}/`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello blob" });
  expect(up.status).toBe(201);
  const { blobId, size, type } = (await up.json()) as { blobId: string; size: number; type: string };
  expect([size, type]).toEqual([10, "text/plain"]);
  const down = await alice.fetch(`/jmap/download/${acct}/${blobId}/x.txt?type=text/plain`);
  expect(await down.text()).toBe("hello blob");
  const bob = Jmap.for(srv, BOB);
  const bobAcct = (await bob.session()).accountId;
  expect((await bob.fetch(`/jmap/download/${bobAcct}/${blobId}/x.txt`)).status).toBe(404);
  expect((await bob.fetch(`/jmap/download/${acct}/${blobId}/x.txt`)).status).toBe(404);
  expect((await bob.fetch(`/jmap/upload/${acct}/`, { method: "POST", body: "x" })).status).toBe(403);
});

test("stateMismatch on Mailbox/set with a stale ifInState", async () => {
  const r = await alice.call([["Mailbox/set", { accountId: acct, ifInState: "1", create: { n: { name: "Nope" } } }, "s"]]);
  expect(r[0]![1].type).toBe("stateMismatch");
  void USING;
});
