// RFC 8621 mail methods over raw JSON: the RFC 8620 §3.7 result-reference example, Email
// properties (header forms, bodyStructure, textBody/htmlBody/attachments, truncated
// bodyValues), Email/query filters, sorts, collapseThreads, anchors, queryChanges,
// Thread/get, Mailbox/set, Email/import, Email/parse, SearchSnippet/get, Email/copy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { ALICE, Jmap, startJmap } from "./helpers.ts";

let srv: TestServer;
let j: Jmap;
let acct: string;
let boxes: Record<string, string>;
const ids: Record<string, string> = {};

const MULTI = [
  "From: =?utf-8?q?J=C3=B6rg?= <joerg@remote.test>",
  "To: Alice <alice@example.test>, team: bob@example.test, carol@remote.test;",
  "Subject: Quarterly numbers",
  "Message-ID: <q1@remote.test>",
  "Date: Tue, 01 Jul 2025 10:00:00 +0200",
  "List-Post: <mailto:list@remote.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="outer"',
  "",
  "--outer",
  'Content-Type: multipart/alternative; boundary="alt"',
  "",
  "--alt",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Gr=C3=BC=C3=9Fe, the numbers are up. Zebra.",
  "--alt",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>Gr&uuml;&szlig;e, the numbers are <b>up</b>.</p>",
  "--alt--",
  "--outer",
  'Content-Type: application/pdf; name="q3.pdf"',
  "Content-Disposition: attachment; filename=q3.pdf",
  "Content-Transfer-Encoding: base64",
  "",
  "JVBERi0xLjQK",
  "--outer--",
  "",
].join("\r\n");

const simple = (subject: string, extra = "", body = "plain body\r\n") =>
  `From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@remote.test>\r\n${extra}\r\n${body}`;

beforeAll(async () => {
  srv = await startJmap();
  j = Jmap.for(srv);
  acct = (await j.session()).accountId;
  const store = srv.core.store;
  const account = (await store.getAccount(ALICE.address))!;
  const inbox = (await store.getMailbox(account.id, "INBOX"))!;
  const archive = (await store.getMailbox(account.id, "Archive"))!;
  const add = async (key: string, raw: string, box = inbox.id, at = 0, flags: string[] = []) => {
    const r = await store.append(box, new TextEncoder().encode(raw), { internalDate: Date.UTC(2025, 6, 1) + at * 60_000, flags });
    ids[key] = "e" + r.emailId.toString(36);
  };
  await add("multi", MULTI, inbox.id, 1);
  await add("root", simple("Lunch", "Date: Tue, 01 Jul 2025 09:00:00 +0000\r\n"), inbox.id, 2, ["\\Seen"]);
  await add("reply", simple("Re: Lunch", "In-Reply-To: <Lunch@remote.test>\r\n", "sure, noon\r\n"), inbox.id, 3);
  await add("archived", simple("Old stuff", "", "x".repeat(5000) + "\r\n"), archive.id, 0, ["$Important"]);
  boxes = Object.fromEntries((await j.call([["Mailbox/get", { accountId: acct }, "m"]]))[0]![1].list.map((m: { role: string; id: string }) => [m.role, m.id]));
}, 30_000);
afterAll(async () => {
  await srv.cleanup();
});

test("RFC 8620 §3.7 example: query → get threadId → Thread/get → get the threads' emails", async () => {
  const r = await j.call([
    [
      "Email/query",
      { accountId: acct, filter: { inMailbox: boxes.inbox }, sort: [{ isAscending: false, property: "receivedAt" }], collapseThreads: true, position: 0, limit: 30, calculateTotal: true },
      "t0",
    ],
    ["Email/get", { accountId: acct, "#ids": { resultOf: "t0", name: "Email/query", path: "/ids" }, properties: ["threadId"] }, "t1"],
    ["Thread/get", { accountId: acct, "#ids": { resultOf: "t1", name: "Email/get", path: "/list/*/threadId" } }, "t2"],
    [
      "Email/get",
      {
        accountId: acct,
        "#ids": { resultOf: "t2", name: "Thread/get", path: "/list/*/emailIds" },
        properties: ["threadId", "mailboxIds", "keywords", "hasAttachment", "from", "subject", "receivedAt", "size", "preview"],
      },
      "t3",
    ],
  ]);
  expect(r[0]![1]).toMatchObject({ ids: [ids.reply, ids.multi], total: 2, position: 0, collapseThreads: true });
  expect(r[2]![1].list).toEqual([
    { id: expect.any(String), emailIds: [ids.root, ids.reply] },
    { id: expect.any(String), emailIds: [ids.multi] },
  ]);
  const got = r[3]![1].list as { id: string; subject: string; keywords: object; hasAttachment: boolean }[];
  expect(got.map((e) => e.id)).toEqual([ids.root, ids.reply, ids.multi]);
  expect(got[0]).toMatchObject({ subject: "Lunch", keywords: { $seen: true }, hasAttachment: false, receivedAt: "2025-07-01T00:02:00Z" });
  expect(got[2]).toMatchObject({ hasAttachment: true, from: [{ name: "Jörg", email: "joerg@remote.test" }] });
});

test("Email/get: header forms, body structure and lists, bodyValues truncated on a character boundary", async () => {
  const [[, r]] = await j.call([
    [
      "Email/get",
      {
        accountId: acct,
        ids: [ids.multi],
        properties: [
          "to",
          "sentAt",
          "messageId",
          "header:To:asGroupedAddresses",
          "header:List-Post:asURLs",
          "header:Subject",
          "header:subject:asText:all",
          "header:X-None",
          "bodyStructure",
          "textBody",
          "htmlBody",
          "attachments",
          "bodyValues",
        ],
        bodyProperties: ["partId", "type", "charset", "name", "disposition", "size"],
        fetchAllBodyValues: true,
        maxBodyValueBytes: 4,
      },
      "g",
    ],
  ]);
  const e = r.list[0];
  expect(e.to).toEqual([
    { name: "Alice", email: "alice@example.test" },
    { name: null, email: "bob@example.test" },
    { name: null, email: "carol@remote.test" },
  ]);
  expect(e["header:To:asGroupedAddresses"]).toEqual([
    { name: null, addresses: [{ name: "Alice", email: "alice@example.test" }] },
    {
      name: "team",
      addresses: [
        { name: null, email: "bob@example.test" },
        { name: null, email: "carol@remote.test" },
      ],
    },
  ]);
  expect(e.sentAt).toBe("2025-07-01T08:00:00Z");
  expect(e.messageId).toEqual(["q1@remote.test"]);
  expect(e["header:List-Post:asURLs"]).toEqual(["mailto:list@remote.test"]);
  expect(e["header:Subject"]).toBe(" Quarterly numbers");
  expect(e["header:subject:asText:all"]).toEqual(["Quarterly numbers"]);
  expect(e["header:X-None"]).toBeNull();
  expect(e.bodyStructure.type).toBe("multipart/mixed");
  expect(e.bodyStructure.subParts.map((p: { type: string }) => p.type)).toEqual(["multipart/alternative", "application/pdf"]);
  expect(e.textBody).toEqual([{ partId: "1", type: "text/plain", charset: "utf-8", name: null, disposition: null, size: 35 }]);
  expect(e.htmlBody.map((p: { partId: string }) => p.partId)).toEqual(["2"]);
  expect(e.attachments).toEqual([{ partId: "3", type: "application/pdf", charset: null, name: "q3.pdf", disposition: "attachment", size: 9 }]);
  // "Grüße": 4 bytes end inside "ü" (2 bytes) … "Gr" + "ü" is exactly 4 bytes.
  expect(e.bodyValues["1"]).toEqual({ value: "Grü", isEncodingProblem: false, isTruncated: true });
  expect(e.bodyValues["2"].isTruncated).toBe(true);
  const bad = await j.call([["Email/get", { accountId: acct, ids: [ids.multi], properties: ["nope"] }, "x"]]);
  expect(bad[0]![1].type).toBe("invalidArguments");
});

test("Email/query filters, sorts, anchors; unsupported ones are errors", async () => {
  const q = async (args: Record<string, unknown>) => (await j.call([["Email/query", { accountId: acct, ...args }, "q"]]))[0]![1];
  expect((await q({ filter: { from: "joerg" } })).ids).toEqual([ids.multi]);
  expect((await q({ filter: { to: "carol@remote" } })).ids).toEqual([ids.multi]);
  expect((await q({ filter: { body: "zebra" } })).ids).toEqual([ids.multi]);
  expect((await q({ filter: { text: "noon" } })).ids).toEqual([ids.reply]);
  expect((await q({ filter: { hasAttachment: true } })).ids).toEqual([ids.multi]);
  expect((await q({ filter: { hasKeyword: "$important" } })).ids).toEqual([ids.archived]);
  expect((await q({ filter: { notKeyword: "$seen", inMailboxOtherThan: [boxes.archive] } })).ids).toEqual([ids.reply, ids.multi]);
  expect((await q({ filter: { minSize: 5000 } })).ids).toEqual([ids.archived]);
  expect((await q({ filter: { before: "2025-07-01T00:01:30Z", after: "2025-07-01T00:00:30Z" } })).ids).toEqual([ids.multi]);
  expect((await q({ filter: { operator: "OR", conditions: [{ subject: "lunch" }, { subject: "old" }] }, sort: [{ property: "subject", isAscending: true }] })).ids).toEqual([
    ids.root,
    ids.archived,
    ids.reply,
  ]);
  expect((await q({ filter: { operator: "NOT", conditions: [{ inMailbox: boxes.inbox }] } })).ids).toEqual([ids.archived]);
  expect((await q({ sort: [{ property: "size", isAscending: false }], limit: 1 })).ids).toEqual([ids.archived]);
  const all = (await q({ sort: [{ property: "receivedAt", isAscending: true }] })).ids as string[];
  expect(all).toEqual([ids.archived, ids.multi, ids.root, ids.reply]);
  expect(await q({ sort: [{ property: "receivedAt", isAscending: true }], anchor: ids.multi, anchorOffset: 1, limit: 2 })).toMatchObject({ position: 2, ids: [ids.root, ids.reply] });
  expect(await q({ sort: [{ property: "receivedAt", isAscending: true }], position: -1 })).toMatchObject({ position: 3, ids: [ids.reply] });
  expect((await q({ anchor: "e999999" })).type).toBe("anchorNotFound");
  expect((await q({ filter: { allInThreadHaveKeyword: "$seen" } })).type).toBe("unsupportedFilter");
  expect((await q({ sort: [{ property: "hasKeyword" }] })).type).toBe("unsupportedSort");
  expect((await q({ filter: { before: "yesterday" } })).type).toBe("invalidArguments");
});

test("Email/queryChanges after a change; Email/changes; Thread/changes", async () => {
  const [[, q0]] = await j.call([["Email/query", { accountId: acct, filter: { inMailbox: boxes.inbox }, collapseThreads: true }, "q"]]);
  const imported = await j.fetch(`/jmap/upload/${acct}/`, { method: "POST", body: simple("Re: Lunch", "References: <Lunch@remote.test>\r\n", "me too\r\n") });
  const { blobId } = (await imported.json()) as { blobId: string };
  const [[, imp]] = await j.call([
    ["Email/import", { accountId: acct, emails: { n: { blobId, mailboxIds: { [boxes.inbox!]: true }, keywords: { $seen: true }, receivedAt: "2025-07-02T00:00:00Z" } } }, "i"],
  ]);
  const newId = imp.created.n.id as string;
  const r = await j.call([
    ["Email/queryChanges", { accountId: acct, filter: { inMailbox: boxes.inbox }, collapseThreads: true, sinceQueryState: q0.queryState, calculateTotal: true }, "c"],
    ["Email/changes", { accountId: acct, sinceState: q0.queryState }, "e"],
    ["Thread/changes", { accountId: acct, sinceState: q0.queryState }, "t"],
    ["Email/get", { accountId: acct, ids: [newId], properties: ["threadId", "keywords"] }, "g"],
  ]);
  // The new reply now represents the Lunch thread at the top; the old one is removed.
  expect(r[0]![1].added).toEqual([{ id: newId, index: 0 }]);
  expect(r[0]![1].removed).toEqual(expect.arrayContaining([newId, ids.reply]));
  expect(r[0]![1].total).toBe(2);
  expect(r[1]![1]).toMatchObject({ created: [newId], updated: [], destroyed: [] });
  expect(r[2]![1].updated).toEqual([r[3]![1].list[0].threadId]);
  expect((await j.call([["Email/changes", { accountId: acct, sinceState: "999999" }, "x"]]))[0]![1].type).toBe("cannotCalculateChanges");
});

test("Mailbox/set: create under a parent, rename, destroy with the documented SetErrors", async () => {
  const r = await j.call([
    ["Mailbox/set", { accountId: acct, create: { p: { name: "Projects" }, c: { name: "Kotak", parentId: "#p" }, bad: { name: "a/b" } } }, "s"],
    ["Mailbox/get", { accountId: acct, ids: ["#c"], properties: ["name", "parentId"] }, "g"],
  ]);
  expect(Object.keys(r[0]![1].created)).toEqual(["p", "c"]);
  expect(r[0]![1].notCreated.bad.type).toBe("invalidProperties");
  const p = r[0]![1].created.p.id;
  const c = r[0]![1].created.c.id;
  const [[, got]] = await j.call([["Mailbox/get", { accountId: acct, ids: [c], properties: ["name", "parentId"] }, "g"]]);
  expect(got.list).toEqual([{ id: c, name: "Kotak", parentId: p }]);
  const r2 = await j.call([["Mailbox/set", { accountId: acct, update: { [c]: { name: "Kotak2", parentId: null } }, destroy: [p, boxes.inbox, boxes.archive] }, "s"]]);
  expect(r2[0]![1].updated).toEqual({ [c]: null });
  expect(r2[0]![1].destroyed).toEqual([p]);
  expect(r2[0]![1].notDestroyed[boxes.inbox!].type).toBe("forbidden");
  expect(r2[0]![1].notDestroyed[boxes.archive!].type).toBe("mailboxHasEmail");
  const [[, after]] = await j.call([["Mailbox/get", { accountId: acct, ids: [c, p], properties: ["name", "parentId"] }, "g"]]);
  expect(after).toMatchObject({ list: [{ id: c, name: "Kotak2", parentId: null }], notFound: [p] });
});

test("Email/parse of an uploaded message, SearchSnippet/get, Email/copy needs another account", async () => {
  const up = await j.fetch(`/jmap/upload/${acct}/`, { method: "POST", body: MULTI });
  const { blobId } = (await up.json()) as { blobId: string };
  const r = await j.call([
    ["Email/parse", { accountId: acct, blobIds: [blobId, "Udeadbeef"], properties: ["subject", "from", "attachments"], bodyProperties: ["partId", "blobId", "name"] }, "p"],
    ["SearchSnippet/get", { accountId: acct, filter: { text: "numbers" }, emailIds: [ids.multi, "e999999"] }, "s"],
    ["Email/copy", { accountId: acct, fromAccountId: acct, create: {} }, "c"],
  ]);
  const parsed = r[0]![1].parsed[blobId];
  expect(parsed).toMatchObject({ subject: "Quarterly numbers", from: [{ name: "Jörg", email: "joerg@remote.test" }] });
  expect(r[0]![1].notFound).toEqual(["Udeadbeef"]);
  const pdf = await j.fetch(`/jmap/download/${acct}/${parsed.attachments[0].blobId}/q3.pdf?type=application/pdf`);
  expect(await pdf.text()).toBe("%PDF-1.4\n");
  expect(r[1]![1].list).toEqual([{ emailId: ids.multi, subject: "Quarterly <mark>numbers</mark>", preview: expect.stringContaining("the <mark>numbers</mark> are up") }]);
  expect(r[1]![1].notFound).toEqual(["e999999"]);
  expect(r[2]![1].type).toBe("invalidArguments");
});
