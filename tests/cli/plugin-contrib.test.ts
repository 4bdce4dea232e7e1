// A plugin written like README's example contributes a CLI command, an admin method and an
// admin HTTP route from <data>/plugins: the command runs without a server (admin method on
// the database) and with one (through the control socket, in the server), and the route
// sits behind the admin token.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startControlServer } from "../../core/control/server.ts";
import { controlSocketIn } from "../../core/paths.ts";
import { createLogger } from "../../core/log.ts";
import { startTestServer } from "../helpers/server.ts";
import { runCli } from "../helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-contrib-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

export const NOTES_PLUGIN = `
import { definePlugin, v, Hono, withAdmin, pluginAdmin, positionals, CommandError } from "kotakpos";
const notes = (core) => {
  const ready = core.db.write((tx) => tx.execute("CREATE TABLE IF NOT EXISTS notes(id INTEGER PRIMARY KEY, text TEXT)"));
  // In the server the plugins' hooks are registered; in an admin-mode core only the core's.
  const where = () => (core.hooks.list().some((h) => h.plugin !== "core") ? "server" : "admin");
  return {
    add: async (text) => { await ready; await core.db.write((tx) => tx.execute({ sql: "INSERT INTO notes(text) VALUES (?)", args: [text] })); return where(); },
    list: async () => { await ready; return (await core.db.query("SELECT text FROM notes ORDER BY id")).rows.map((r) => r.text); },
  };
};
export default definePlugin({
  name: "notes",
  config: v.object({ prefix: v.optional(v.string(), "note: ") }),
  async setup(core) {},
  admin: (core) => notes(core),
  adminRoutes(core, cfg) {
    const app = new Hono();
    app.get("/notes", async (c) => c.json((await notes(core).list()).map((t) => cfg.prefix + t)));
    return app;
  },
  commands: [{
    name: "note",
    summary: "keep a note",
    usage: ["note TEXT", "note --list"],
    options: { list: { type: "boolean" } },
    async run(ctx, p) {
      await withAdmin(ctx, async (api) => {
        const n = pluginAdmin(api, "notes");
        if (p.values.list) { for (const t of await n.list()) ctx.io.out(t + "\\n"); return; }
        const [text] = positionals(p, ["TEXT"]);
        if (text === "fail") throw new CommandError("refused");
        ctx.io.out("noted in " + (await n.add(text)) + "\\n");
      });
    },
  }],
});
`;

const cli = (data: string, args: string[]) => runCli(data, args);

test("an extra plugin's command, admin method and admin route", async () => {
  const data = join(tmp, "d1");
  mkdirSync(join(data, "plugins"), { recursive: true });
  writeFileSync(join(data, "plugins", "notes.js"), NOTES_PLUGIN);
  // The table is made by the admin method factory; the database exists after the first run.
  expect(await cli(data, ["note", "--list"])).toEqual({ code: 0, out: "", err: "" });
  expect(await cli(data, ["note", "first"])).toEqual({ code: 0, out: "noted in admin\n", err: "" });
  expect(await cli(data, ["note", "fail"])).toEqual({ code: 1, out: "", err: "kotakpos: refused\n" });
  expect((await cli(data, ["note"])).code).toBe(2);
  expect((await cli(data, ["nothing-like-it"])).err).toContain('unknown command "nothing-like-it"');

  const server = await startTestServer({ dataDir: data, config: { notes: { prefix: "> " } } });
  const control = await startControlServer({ path: controlSocketIn(data), api: server.admin, log: createLogger("error") });
  try {
    // With a server, the command's admin call runs inside it.
    expect(await cli(data, ["note", "second"])).toEqual({ code: 0, out: "noted in server\n", err: "" });
    expect((await cli(data, ["note", "--list"])).out).toBe("first\nsecond\n");
    const url = `http://127.0.0.1:${server.port("http")}/api/admin/notes`;
    expect((await fetch(url)).status).toBe(401);
    const token = readFileSync(join(data, "admin.token"), "utf8").trim();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(["> first", "> second"]);
  } finally {
    await control?.close();
    await server.cleanup();
  }
}, 60_000);

test("plugins disabled in the config offer no admin methods", async () => {
  const data = join(tmp, "d2");
  mkdirSync(join(data, "plugins"), { recursive: true });
  writeFileSync(join(data, "plugins", "notes.js"), NOTES_PLUGIN);
  writeFileSync(join(data, "kotakpos.toml"), '[plugins]\ndisabled = ["notes"]\n');
  const r = await cli(data, ["note", "x"]);
  expect(r.code).toBe(1);
  expect(r.err).toContain('unknown admin method "notes.add"');
}, 30_000);
