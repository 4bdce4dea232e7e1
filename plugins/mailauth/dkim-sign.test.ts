import { expect, test } from "bun:test";
import { createHash, generateKeyPairSync } from "node:crypto";
import { dkimVerify } from "mailauth";
import { relaxedBodyHash, relaxedHeader } from "./canon.ts";
import { dkimSign, headerList } from "./dkim-sign.ts";
import { parseRawHeader } from "./header.ts";

// RFC 6376 §3.4.5, the example of relaxed canonicalization.
const EXAMPLE = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

test("relaxed header canonicalization (RFC 6376 §3.4.5 example)", () => {
  const { fields } = parseRawHeader(Buffer.from(EXAMPLE));
  expect(fields.map((f) => relaxedHeader(f.raw))).toEqual(["a:X", "b:Y Z"]);
});

test("relaxed body canonicalization (RFC 6376 §3.4.5 example) and the empty body", () => {
  const msg = Buffer.from(EXAMPLE);
  const { bodyStart } = parseRawHeader(msg);
  const want = createHash("sha256").update(" C\r\nD E\r\n").digest("base64");
  expect(relaxedBodyHash(msg, bodyStart)).toBe(want);
  const empty = Buffer.from("From: a@b.test\r\n\r\n\r\n\r\n");
  expect(relaxedBodyHash(empty, parseRawHeader(empty).bodyStart)).toBe(createHash("sha256").update("").digest("base64"));
});

test("h= oversigns key fields once more than they occur, and signs list fields as they occur", () => {
  const { fields } = parseRawHeader(Buffer.from("From: a@b.test\r\nReceived: x\r\nTo: c@d.test\r\nTo: e@f.test\r\nList-Id: <l.b.test>\r\n\r\n"));
  const h = headerList(fields);
  expect(h.filter((x) => x === "from")).toHaveLength(2);
  expect(h.filter((x) => x === "to")).toHaveLength(3);
  expect(h.filter((x) => x === "subject")).toHaveLength(1); // absent: one null entry
  expect(h.filter((x) => x === "list-id")).toHaveLength(1);
  expect(h).not.toContain("received");
});

test("a message without From is not signed (RFC 6376 §5.4)", () => {
  const { privateKey } = generateKeyPairSync("ed25519");
  expect(dkimSign(Buffer.from("To: a@b.test\r\n\r\nhi\r\n"), [{ domain: "b.test", selector: "s", algorithm: "ed25519-sha256", privateKey }])).toEqual([]);
});

test("signatures verify with mailauth; folded lines stay under 78 characters", async () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ed = generateKeyPairSync("ed25519");
  const records: Record<string, string> = {
    "r._domainkey.b.test": `v=DKIM1; k=rsa; p=${rsa.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`,
    "e._domainkey.b.test": `v=DKIM1; k=ed25519; p=${ed.publicKey.export({ type: "spki", format: "der" }).subarray(12).toString("base64")}`,
  };
  const msg = Buffer.from("From: A <a@b.test>\r\nTo: c@d.test\r\nSubject: hi\r\n\r\nbody\r\n");
  const sigs = dkimSign(msg, [
    { domain: "b.test", selector: "r", algorithm: "rsa-sha256", privateKey: rsa.privateKey },
    { domain: "b.test", selector: "e", algorithm: "ed25519-sha256", privateKey: ed.privateKey },
  ]);
  expect(sigs).toHaveLength(2);
  for (const s of sigs) for (const line of s.split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
  const res = await dkimVerify(Buffer.concat([Buffer.from(sigs.join("")), msg]), {
    resolver: async (name: string) => {
      if (records[name]) return [[records[name]!]];
      throw Object.assign(new Error("nx"), { code: "ENOTFOUND" });
    },
  });
  expect(res.results.map((r) => r.status.result)).toEqual(["pass", "pass"]);
});
