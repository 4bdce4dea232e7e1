import { afterAll, beforeAll, expect, test } from "bun:test";
import { createResolver } from "../../core/dns/index.ts";
import { parseConfig } from "../../core/server.ts";
import { startTestDns, type TestDns } from "../../tests/helpers/dns-server.ts";
import { Hono } from "hono";
import { adminApp } from "./api.ts";
import { mailauthConfigOf } from "./config.ts";
import type { DnsRecord } from "./records.ts";
import type { CheckResult } from "./records.ts";
import type { KeyInfo, MailauthContext } from "./service.ts";
import { tempDb } from "./test-db.ts";

let t: Awaited<ReturnType<typeof tempDb>>;
let dns: TestDns;
let bare: ReturnType<typeof adminApp>;
let app: Hono;

beforeAll(async () => {
  t = await tempDb(["example.test"]);
  dns = await startTestDns({});
  const config = parseConfig({ hostname: "mx.example.test", mailauth: { ipv4: ["192.0.2.10"] } });
  const ctx: MailauthContext = { db: t.db, config, mcfg: mailauthConfigOf(config), resolver: createResolver({ servers: [dns.server], timeoutMs: 1000 }) };
  // As the HTTP server does after authenticating /api/admin/*.
  app = new Hono();
  app.use("*", async (c, next) => {
    c.set("adminUser" as never, { accountId: 0, address: "admin" } as never);
    await next();
  });
  app.route(
    "/",
    adminApp(() => ctx),
  );
  bare = adminApp(() => ctx);
});
afterAll(async () => {
  await dns.close();
  await t.cleanup();
});

test("GET /domains/:d/dns lists the records, creating the DKIM keys on first use", async () => {
  const res = await app.request("/domains/example.test/dns");
  expect(res.status).toBe(200);
  const records = (await res.json()) as DnsRecord[];
  const dkim = records.filter((r) => r.name.includes("._domainkey."));
  expect(dkim.map((r) => r.data.split(";")[1]!.trim())).toEqual(["k=rsa", "k=ed25519"]);
  expect(records.every((r) => typeof r.name === "string" && typeof r.type === "string" && typeof r.value === "string")).toBe(true);
});

test("GET /domains/:d/dns/check reports record by record", async () => {
  dns.set("example.test", { MX: [{ exchange: "mx.example.test", priority: 10 }] });
  const res = await app.request("/domains/example.test/dns/check");
  const checks = (await res.json()) as CheckResult[];
  expect(checks.find((c) => c.record.type === "MX")!.status).toBe("right");
  expect(checks.find((c) => c.record.name === "_dmarc.example.test")!.status).toBe("missing");
});

test("rotation through the API; no private keys in answers", async () => {
  const staged = (await (await app.request("/domains/example.test/dkim/rotate", { method: "POST", body: JSON.stringify({ step: "stage" }) })).json()) as KeyInfo[];
  expect(staged.map((k) => k.state).sort()).toEqual(["active", "active", "staged", "staged"]);
  const text = await (await app.request("/domains/example.test/dkim")).text();
  expect(text).not.toContain("PRIVATE");
  const act = (await (await app.request("/domains/example.test/dkim/rotate", { method: "POST", body: JSON.stringify({ step: "activate" }) })).json()) as KeyInfo[];
  expect(act.map((k) => k.state).sort()).toEqual(["active", "active", "retired", "retired"]);
  const bad = await app.request("/domains/example.test/dkim/rotate", { method: "POST", body: JSON.stringify({ step: "explode" }) });
  expect(bad.status).toBe(400);
  const again = await app.request("/domains/example.test/dkim/rotate", { method: "POST", body: JSON.stringify({ step: "activate" }) });
  expect(again.status).toBe(409);
});

test("without an authenticated admin on the context: 401", async () => {
  expect((await bare.request("/domains/example.test/dns")).status).toBe(401);
  expect((await bare.request("/domains/example.test/dkim/rotate", { method: "POST" })).status).toBe(401);
});

test("unknown domain → 404, malformed name → 400", async () => {
  expect((await app.request("/domains/nope.test/dns")).status).toBe(404);
  expect((await app.request("/domains/bad%20name/dns")).status).toBe(400);
});
