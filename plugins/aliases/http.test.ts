import { afterAll, beforeAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { testDb, type TestDb } from "../../tests/aliases/db.ts";
import { aliasesApi, type AdminEnv } from "./http.ts";

let t: TestDb;
let app: Hono<AdminEnv>;
let open: Hono;

beforeAll(async () => {
  t = await testDb();
  await t.domain("example.com");
  for (const u of ["alice", "bob"]) await t.user(`${u}@example.com`);
  // As the HTTP server will: its admin login middleware first, then the plugin's routes.
  app = new Hono<AdminEnv>();
  app.use("/api/admin/*", async (c, next) => {
    if (c.req.header("authorization") === "Bearer admin") c.set("adminUser", { accountId: 1, address: "alice@example.com" });
    await next();
  });
  app.route("/api/admin", aliasesApi(t, {}));
  open = new Hono();
  open.route("/api/admin", aliasesApi(t, {}));
});
afterAll(() => t.close());

const req = (method: string, path: string, body?: unknown, a: Hono<AdminEnv> | Hono = app) =>
  a.request(path, {
    method,
    headers: { authorization: "Bearer admin", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

test("without an admin login every route is 401", async () => {
  for (const [m, p] of [
    ["GET", "/api/admin/aliases"],
    ["POST", "/api/admin/aliases"],
    ["DELETE", "/api/admin/aliases/x@example.com"],
    ["GET", "/api/admin/domain-aliases"],
  ] as const) {
    expect((await req(m, p, undefined, open)).status).toBe(401);
    expect((await app.request(p, { method: m })).status).toBe(401);
  }
});

test("create, read, list, remove a target, delete", async () => {
  let r = await req("POST", "/api/admin/aliases", { address: "team@example.com", targets: ["alice@example.com", "bob@example.com"], kind: "group", membersOnly: true });
  expect(r.status).toBe(201);
  expect(await r.json()).toEqual({ alias: { address: "team@example.com", targets: ["alice@example.com", "bob@example.com"], kind: "group", membersOnly: true, senders: [] } });
  r = await req("GET", "/api/admin/aliases/team%40example.com");
  expect(((await r.json()) as { alias: { kind: string } }).alias.kind).toBe("group");
  r = await req("GET", "/api/admin/aliases?domain=example.com");
  expect(((await r.json()) as { aliases: { address: string }[] }).aliases.map((a) => a.address)).toEqual(["team@example.com"]);
  r = await req("DELETE", "/api/admin/aliases/team@example.com", { targets: ["bob@example.com"] });
  expect(await r.json()).toMatchObject({ deleted: false, alias: { targets: ["alice@example.com"] } });
  r = await req("DELETE", "/api/admin/aliases/team@example.com");
  expect(await r.json()).toEqual({ deleted: true, alias: null });
  expect((await req("DELETE", "/api/admin/aliases/team@example.com")).status).toBe(404);
  expect((await req("GET", "/api/admin/aliases/team@example.com")).status).toBe(404);
});

test("a loop and bad bodies are 400 with the reason", async () => {
  await req("POST", "/api/admin/aliases", { address: "a@example.com", targets: ["alice@example.com"] });
  await req("POST", "/api/admin/aliases", { address: "b@example.com", targets: ["a@example.com"] });
  let r = await req("POST", "/api/admin/aliases", { address: "a@example.com", targets: ["b@example.com"] });
  expect(r.status).toBe(400);
  expect(((await r.json()) as { error: string }).error).toContain("alias loop: a@example.com -> b@example.com -> a@example.com");
  r = await req("POST", "/api/admin/aliases", "{not json");
  expect(r.status).toBe(400);
  r = await req("POST", "/api/admin/aliases", { address: 5, targets: "x" });
  expect(r.status).toBe(400);
  expect(((await r.json()) as { error: string }).error).toContain("address");
  r = await req("POST", "/api/admin/aliases", { address: "x@example.com", targets: ["y".repeat(2 * 1024 * 1024)] });
  expect(r.status).toBe(413);
});

test("domain aliases", async () => {
  let r = await req("POST", "/api/admin/domain-aliases", { domain: "example.org", target: "example.com" });
  expect(r.status).toBe(201);
  r = await req("GET", "/api/admin/domain-aliases");
  expect(await r.json()).toEqual({ domainAliases: [{ domain: "example.org", target: "example.com" }] });
  expect((await req("POST", "/api/admin/domain-aliases", { domain: "example.com", target: "example.org" })).status).toBe(400);
  expect((await req("DELETE", "/api/admin/domain-aliases/example.org")).status).toBe(200);
  expect((await req("DELETE", "/api/admin/domain-aliases/example.org")).status).toBe(404);
});
