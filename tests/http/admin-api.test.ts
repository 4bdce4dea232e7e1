import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { definePlugin } from "../../core/types.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let s: TestServer;
let base: string;
let auth: Record<string, string>;

beforeAll(async () => {
  s = await startTestServer({ plugins: [] });
  base = `http://127.0.0.1:${s.port("http")}`;
  const token = readFileSync(join(s.dataDir, "admin.token"), "utf8").trim();
  auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
});
afterAll(() => s.cleanup());

describe("admin API", () => {
  test("the token file is private and required", async () => {
    expect(statSync(join(s.dataDir, "admin.token")).mode & 0o077).toBe(0);
    expect((await fetch(`${base}/api/admin/domains`)).status).toBe(401);
    expect((await fetch(`${base}/api/admin/domains`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
  });

  test("domains and users: create, list, change password, delete, clear errors", async () => {
    let r = await fetch(`${base}/api/admin/domains`, { method: "POST", headers: auth, body: JSON.stringify({ name: "Admin.Test" }) });
    expect(r.status).toBe(201);
    expect(((await (await fetch(`${base}/api/admin/domains`, { headers: auth })).json()) as { name: string }[]).map((d) => d.name)).toContain("admin.test");

    r = await fetch(`${base}/api/admin/users`, { method: "POST", headers: auth, body: JSON.stringify({ address: "ann@admin.test", password: "short" }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/password: a password of at least 8/);

    r = await fetch(`${base}/api/admin/users`, { method: "POST", headers: auth, body: JSON.stringify({ address: "ann@admin.test", password: "correct horse" }) });
    expect(r.status).toBe(201);
    r = await fetch(`${base}/api/admin/users`, { method: "POST", headers: auth, body: JSON.stringify({ address: "ann@admin.test", password: "correct horse" }) });
    expect(r.status).toBe(409);
    expect(await s.core.store.verifyPassword("ann@admin.test", "correct horse")).not.toBeNull();

    r = await fetch(`${base}/api/admin/users/ann@admin.test/password`, { method: "PUT", headers: auth, body: JSON.stringify({ password: "battery staple" }) });
    expect(r.status).toBe(204);
    expect(await s.core.store.verifyPassword("ann@admin.test", "battery staple")).not.toBeNull();

    r = await fetch(`${base}/api/admin/domains/admin.test`, { method: "DELETE", headers: auth });
    expect(r.status).toBe(409);
    expect((await fetch(`${base}/api/admin/users/ann@admin.test`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await fetch(`${base}/api/admin/domains/admin.test`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await fetch(`${base}/api/admin/users`, { method: "POST", headers: auth, body: "not json" })).status).toBe(400);
  });

  test("queue: list and unknown ids", async () => {
    expect(await (await fetch(`${base}/api/admin/queue`, { headers: auth })).json()).toEqual([]);
    expect((await fetch(`${base}/api/admin/queue/nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/api/admin/queue/nope`, { method: "DELETE", headers: auth })).status).toBe(404);
  });

  test("https answers with the server's certificate", async () => {
    const r = await fetch(`https://127.0.0.1:${s.port("https")}/healthz`, { tls: { rejectUnauthorized: false } });
    expect(await r.text()).toBe("ok\n");
  });
});

describe("admin API with the built-in plugins", () => {
  test("plugins' admin routes sit behind the same token", async () => {
    const full = await startTestServer();
    try {
      const b = `http://127.0.0.1:${full.port("http")}`;
      const token = readFileSync(join(full.dataDir, "admin.token"), "utf8").trim();
      const h = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      expect((await fetch(`${b}/api/admin/aliases`)).status).toBe(401);
      const r = await fetch(`${b}/api/admin/aliases`, { headers: h });
      expect(r.status).toBe(200);
      expect(Array.isArray(((await r.json()) as { aliases: unknown }).aliases)).toBe(true);
      const dns = await fetch(`${b}/api/admin/domains/example.test/dns`, { headers: h });
      expect(dns.status).toBe(200);
      expect(((await dns.json()) as { type: string }[]).map((x) => x.type)).toContain("MX");
    } finally {
      await full.cleanup();
    }
  });
});

describe("admin API: accounts disabled, queue bounce, plugin methods", () => {
  let p: TestServer;
  let pbase: string;
  let pauth: Record<string, string>;
  beforeAll(async () => {
    // A plugin with admin methods, as the migrate plugin has (start/status/cancel).
    const demo = definePlugin({
      name: "demo",
      setup() {},
      admin: () => ({
        echo: async (a: unknown, b: unknown) => ({ a, b }),
        fail: async () => {
          throw new Error("it says no");
        },
      }),
    });
    p = await startTestServer({ plugins: [demo], users: [{ address: "dee@example.test", password: "dee-password-1" }] });
    pbase = `http://127.0.0.1:${p.port("http")}`;
    pauth = { authorization: `Bearer ${readFileSync(join(p.dataDir, "admin.token"), "utf8").trim()}`, "content-type": "application/json" };
  });
  afterAll(() => p.cleanup());

  test("PUT /users/:address/disabled turns login off and on", async () => {
    const put = (disabled: unknown, who = "dee@example.test") => fetch(`${pbase}/api/admin/users/${who}/disabled`, { method: "PUT", headers: pauth, body: JSON.stringify({ disabled }) });
    expect((await put(true)).status).toBe(204);
    expect(await p.core.store.verifyPassword("dee@example.test", "dee-password-1")).toBeNull();
    expect((await put(false)).status).toBe(204);
    expect(await p.core.store.verifyPassword("dee@example.test", "dee-password-1")).not.toBeNull();
    expect((await put("yes")).status).toBe(400);
    expect((await put(true, "nobody@example.test")).status).toBe(404);
  });

  test("POST /queue/:id/bounce of a message with nothing waiting is 404", async () => {
    const r = await fetch(`${pbase}/api/admin/queue/nope/bounce`, { method: "POST", headers: pauth });
    expect(r.status).toBe(404);
  });

  test("POST /methods/<plugin>.<method> calls a plugin's admin method with its arguments", async () => {
    const call = (m: string, body: unknown) => fetch(`${pbase}/api/admin/methods/${m}`, { method: "POST", headers: pauth, body: JSON.stringify(body) });
    let r = await call("demo.echo", { args: [1, "two"] });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ result: { a: 1, b: "two" } });
    r = await call("demo.fail", {});
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: "it says no" });
    expect((await call("demo.nothing", {})).status).toBe(404);
    expect((await call("demo.echo", { args: "not a list" })).status).toBe(400);
    expect((await fetch(`${pbase}/api/admin/methods/demo.echo`, { method: "POST", body: "{}" })).status).toBe(401);
  });
});
