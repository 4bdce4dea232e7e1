import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../core/db/open.ts";
import { loadCerts, requestRenewal, saveCert, takeRenewal } from "./store.ts";

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kotakpos-acme-db-"));
  db = await openDb({ url: `file:${join(dir, "k.db")}` });
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the newest certificate of a name wins; expired ones are dropped when a new one is stored", async () => {
  await saveCert(db, { name: "mx.example.test", keyPem: "k", certPem: "old", notAfter: 10, createdAt: 5 });
  await saveCert(db, { name: "mx.example.test", keyPem: "k", certPem: "new", notAfter: 1000, createdAt: 20 });
  const certs = await loadCerts(db);
  expect(certs.get("mx.example.test")?.certPem).toBe("new");
  const rows = await db.client.execute("SELECT count(*) AS n FROM certificates WHERE issuer = 'acme'");
  expect(Number(rows.rows[0]!.n)).toBe(1);
});

test("a `tls renew` request is taken once", async () => {
  expect(await takeRenewal(db)).toBeUndefined();
  await requestRenewal(db, ["mx.example.test"]);
  expect(await takeRenewal(db)).toEqual(["mx.example.test"]);
  expect(await takeRenewal(db)).toBeUndefined();
});
