import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPluginDir, resolvePlugins } from "./plugins.ts";
import { startTestServer, type TestServer } from "../tests/helpers/server.ts";
import type { Address, Plugin, SmtpTxn } from "./types.ts";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
});

const exampleSource = `
import { definePlugin, reject, pass, v } from "kotakpos";
export default definePlugin({
  name: "no-spammer",
  config: v.object({ blocked: v.optional(v.string(), "spammer@evil.test") }),
  setup(core, cfg) {
    core.hooks.on("smtp.mail", (_txn, addr) =>
      addr.address === cfg.blocked ? reject(550, "5.7.1", "Sender blocked by policy") : pass);
  },
});
`;

const addr = (address: string): Address => ({ address, local: address.split("@")[0], domain: address.split("@")[1], params: {} });

describe("plugin loader", () => {
  test("an example plugin from the plugins folder changes a decision", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-plug-"));
    mkdirSync(join(dataDir, "plugins"));
    writeFileSync(join(dataDir, "plugins", "no-spammer.ts"), exampleSource);
    server = await startTestServer({ dataDir, plugins: [], config: { "no-spammer": { blocked: "bad@evil.test" } } });
    const txn = {} as SmtpTxn;
    expect(await server.core.hooks.first("smtp.mail", txn, addr("bad@evil.test"))).toEqual({
      kind: "reject",
      reply: { code: 550, enhanced: "5.7.1", text: "Sender blocked by policy" },
    });
    expect(await server.core.hooks.first("smtp.mail", txn, addr("good@evil.test"))).toEqual({ kind: "pass" });
    expect(server.core.hooks.list()).toContainEqual({ hook: "smtp.mail", plugin: "no-spammer" });
  });

  test("a plugin's config error names the key and nothing starts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kotakpos-plug-"));
    mkdirSync(join(dataDir, "plugins"));
    writeFileSync(join(dataDir, "plugins", "no-spammer.ts"), exampleSource);
    await expect(startTestServer({ dataDir, plugins: [], config: { "no-spammer": { blocked: 42 } } })).rejects.toThrow(/config error: no-spammer\.blocked = 42: /);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("disabled plugins are skipped, duplicate names refused, non-plugins reported", async () => {
    const a: Plugin = { name: "a", setup() {} };
    const b: Plugin = { name: "b", setup() {} };
    expect(resolvePlugins([a], [b], ["a"]).map((p) => p.name)).toEqual(["b"]);
    expect(() => resolvePlugins([a], [a], [])).toThrow(/two plugins are named "a"/);
    const dir = mkdtempSync(join(tmpdir(), "kotakpos-plug-"));
    writeFileSync(join(dir, "junk.js"), "export const x = 1;");
    await expect(importPluginDir(dir)).rejects.toThrow(/does not export a plugin/);
    expect(await importPluginDir(join(dir, "missing"))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
