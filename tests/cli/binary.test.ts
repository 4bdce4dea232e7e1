// The single executable from `npm run build`, copied alone into an empty directory: it
// starts, binds its listeners, creates its data dir, stops on SIGTERM; config errors
// stop it before binding; the admin commands work.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBinary, freeOffset, portFree, run, serve, STANDARD_PORTS, tcpConnect } from "../helpers/binary.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-bin-"));
let bin = "";
/** An empty directory holding only the binary, as on a fresh machine. */
let home = "";

beforeAll(async () => {
  const built = await buildBinary(join(tmp, "build", "kotakpos"));
  home = join(tmp, "home");
  mkdirSync(home);
  bin = join(home, "kotakpos");
  copyFileSync(built, bin);
  rmSync(join(tmp, "build"), { recursive: true, force: true });
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const dataDir = (name: string) => join(tmp, "data-" + name);

describe("serve", () => {
  test("binds its listeners on the offset, creates its data dir, exits 0 on SIGTERM within 5 s", async () => {
    expect(readdirSync(home)).toEqual(["kotakpos"]);
    const data = dataDir("serve");
    const offset = await freeOffset();
    const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: home });
    try {
      expect(s.listeners.length).toBeGreaterThan(0);
      for (const l of s.listeners) {
        expect(l.address).toBe("127.0.0.1");
        // A standard port plus the offset, unless [listen.ports] moved it.
        expect(STANDARD_PORTS).toContain(l.port - offset);
        await tcpConnect(l.port);
      }
      expect(s.banner).toContain(data);
      expect(existsSync(join(data, "kotakpos.toml"))).toBe(true);
      expect(existsSync(join(data, "kotakpos.db"))).toBe(true);

      // Admin commands while it runs go through its control socket …
      const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: home, stdin });
      expect((await k(["domain", "add", "live.test"])).code).toBe(0);
      const plugins = await k(["plugins"]);
      expect(plugins.stdout).toContain("from the running server");
      for (const l of s.listeners) expect(plugins.stdout).toContain(`${l.name}:${l.port}`);
      // … and without the socket they open the database beside the server (WAL).
      const sock = join(data, "control.sock");
      renameSync(sock, sock + ".away");
      try {
        expect(await k(["user", "add", "direct@live.test", "--password-stdin"], "pw\n")).toMatchObject({ code: 0 });
        expect((await k(["plugins"])).stdout).not.toContain("from the running server");
      } finally {
        renameSync(sock + ".away", sock);
      }
      expect((await k(["user", "list"])).stdout).toBe("direct@live.test\n");
    } finally {
      const { code, ms } = await s.signal("SIGTERM");
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5000);
    }
    // Everything is released.
    for (const l of s.listeners) expect(await portFree(l.port)).toBe(true);
  }, 60_000);

  test("mail flows through the binary: smtplib in on 25, poplib out on 995, blob written and read back", async () => {
    const data = dataDir("mail");
    const offset = await freeOffset();
    const s = await serve(bin, ["--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: home });
    try {
      const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: home, stdin });
      expect((await k(["domain", "add", "bin.test"])).code).toBe(0);
      expect((await k(["user", "add", "ann@bin.test", "--password-stdin"], "ann-password-1\n")).code).toBe(0);
      const py = Bun.spawn(
        [
          "python3",
          "-c",
          `
import smtplib, poplib, ssl, sys
body = "Subject: through the binary\\r\\n\\r\\nhello from smtplib\\r\\n"
with smtplib.SMTP("127.0.0.1", ${offset + 25}) as c:
    c.sendmail("someone@elsewhere.test", ["ann@bin.test"], body)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", ${offset + 995}, context=ctx)
p.user("ann@bin.test"); p.pass_("ann-password-1")
resp, lines, octets = p.retr(1)
sys.stdout.write("\\n".join(l.decode() for l in lines))
p.quit()
`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, err] = await Promise.all([new Response(py.stdout).text(), new Response(py.stderr).text()]);
      expect(err).toBe("");
      expect(await py.exited).toBe(0);
      expect(out).toContain("Subject: through the binary");
      expect(out).toContain("hello from smtplib");
      expect(out).toMatch(/^Received: from /m);
      // the inbound checks ran in their worker thread (an entry point of its own in the binary)
      expect(out).toMatch(/^Authentication-Results: /m);
      expect(readdirSync(join(data, "blobs")).length).toBeGreaterThan(0);
    } finally {
      expect((await s.signal("SIGTERM")).code).toBe(0);
    }
  }, 60_000);

  test("a config file error names key, value and expectation; exit 2, nothing bound", async () => {
    const data = dataDir("badfile");
    mkdirSync(data);
    const file = join(data, "kotakpos.toml");
    writeFileSync(file, '[delivery]\nport = "abc"\n');
    const offset = await freeOffset();
    const r = await run(bin, ["serve", "--data", data, "--port-offset", String(offset), "--listen", "127.0.0.1"], { cwd: home });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`config error: delivery.port = "abc": expected a whole number from 0 to 65535 (in ${file})`);
    expect(r.stdout).not.toContain("kotakpos ready");
    expect(existsSync(join(data, "kotakpos.db"))).toBe(false);
    for (const p of STANDARD_PORTS) expect(await portFree(offset + p)).toBe(true);
  }, 30_000);

  test("an env override error names the variable; --config must exist; bad flags are usage errors", async () => {
    const data = dataDir("badenv");
    const env = await run(bin, ["serve", "--data", data, "--port-offset", "30000"], { cwd: home, env: { KOTAKPOS_DELIVERY_PORT: "abc" } });
    expect(env.code).toBe(2);
    expect(env.stderr.trim()).toBe('config error: delivery.port = "abc": expected a whole number from 0 to 65535 (from KOTAKPOS_DELIVERY_PORT)');
    const missing = await run(bin, ["serve", "--data", data, "--config", join(data, "nope.toml")], { cwd: home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.toml does not exist");
    const flag = await run(bin, ["serve", "--data", data, "--port-offset", "many"], { cwd: home });
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim()).toBe('kotakpos: --port-offset must be a whole number from 0 to 60000, not "many"');
    for (const r of [env, missing, flag]) expect(r.stderr.trim().split("\n")).toHaveLength(1);
  }, 30_000);
});

describe("admin commands", () => {
  test("domain and user commands, password from stdin", async () => {
    const data = dataDir("admin");
    const k = (args: string[], stdin?: string) => run(bin, [...args, "--data", data], { cwd: home, stdin });
    expect((await k(["domain", "add", "Example.TEST"])).code).toBe(0);
    expect((await k(["domain", "list"])).stdout).toBe("example.test\n");
    const add = await k(["user", "add", "alice@example.test", "--password-stdin"], "s3cret-pw\n");
    expect(add).toMatchObject({ code: 0, stdout: "added user alice@example.test\n" });
    expect((await k(["user", "add", "bob@example.test", "--password-stdin"], "other\n")).code).toBe(0);
    expect((await k(["user", "list"])).stdout).toBe("alice@example.test\nbob@example.test\n");
    // No terminal and no --password-stdin: a usage error, nothing created.
    const noPw = await k(["user", "add", "carol@example.test"]);
    expect(noPw.code).toBe(2);
    expect(noPw.stderr).toContain("--password-stdin");
    const dup = await k(["user", "add", "alice@example.test", "--password-stdin"], "x\n");
    expect(dup).toMatchObject({ code: 1, stderr: "kotakpos: user alice@example.test already exists\n" });
    const noDomain = await k(["user", "add", "dave@elsewhere.test", "--password-stdin"], "x\n");
    expect(noDomain.code).toBe(1);
    expect(noDomain.stderr).toContain("no domain elsewhere.test");
    expect((await k(["user", "del", "bob@example.test"])).code).toBe(0);
    expect((await k(["user", "list", "example.test"])).stdout).toBe("alice@example.test\n");
  }, 60_000);

  test("the embedded database addon is unpacked once into $TMPDIR/kotakpos-<uid>, then reused", async () => {
    const tmpDir = join(tmp, "fresh-tmp");
    mkdirSync(tmpDir);
    const data = dataDir("addon");
    const k = (args: string[]) => run(bin, [...args, "--data", data], { cwd: home, env: { TMPDIR: tmpDir } });
    expect((await k(["domain", "add", "example.test"])).code).toBe(0);
    const cache = join(tmpDir, `kotakpos-${process.getuid!()}`);
    const [addon] = readdirSync(cache);
    expect(addon).toMatch(/^libsql-[0-9a-f]{16}\.node$/);
    const first = statSync(join(cache, addon!));
    expect(first.mode & 0o777).toBe(0o700);
    expect((await k(["domain", "list"])).stdout).toBe("example.test\n");
    expect(readdirSync(cache)).toEqual([addon!]);
    expect(statSync(join(cache, addon!)).mtimeMs).toBe(first.mtimeMs);
  }, 60_000);

  test("usage errors exit 2 with one line; --help and version exit 0", async () => {
    const data = dataDir("usage");
    const k = (args: string[]) => run(bin, [...args, "--data", data], { cwd: home });
    for (const args of [[], ["frobnicate"], ["user"], ["user", "add"], ["domain", "add", "a", "b"], ["user", "list", "--bogus"]]) {
      const r = await k(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    const help = await k(["user", "add", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--password-stdin");
    expect(help.stdout).toContain("--data DIR");
    const top = await run(bin, ["--help"], { cwd: home });
    expect(top.code).toBe(0);
    for (const c of ["serve", "domain", "user", "alias", "queue", "plugins", "version"]) expect(top.stdout).toContain(`  ${c}`);
    const v = await run(bin, ["version"], { cwd: home });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^kotakpos \d+\.\d+\.\d+/);
  }, 60_000);

  test("an extra plugin in <data>/plugins loads in the binary (importing valibot and kotakpos)", async () => {
    const data = dataDir("plugin");
    mkdirSync(join(data, "plugins"), { recursive: true });
    writeFileSync(
      join(data, "plugins", "hello.ts"),
      [
        'import * as v from "valibot";',
        'import { definePlugin, reject, withAdmin, pluginAdmin, type Core } from "kotakpos";',
        "export default definePlugin({",
        '  name: "hello",',
        '  config: v.object({ greeting: v.optional(v.string(), "hi") }),',
        "  setup(core: Core, cfg: { greeting: string }) {",
        '    core.hooks.on("connect", () => reject(554, "5.7.1", cfg.greeting));',
        "  },",
        "  admin: (core: Core) => ({ domains: async () => (await core.store.listDomains()).length }),",
        "  commands: [{",
        '    name: "hello", summary: "greet", usage: ["hello"],',
        "    async run(ctx: any) {",
        '      const n = await withAdmin(ctx, (api: any) => pluginAdmin(api, "hello").domains());',
        "      ctx.io.out(`hello: ${n} domains\\n`);",
        "    },",
        "  }],",
        "});",
      ].join("\n"),
    );
    const r = await run(bin, ["plugins", "--data", data], { cwd: home });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/plugins: .*hello/);
    expect(r.stdout).toMatch(/connect\s+.*hello/);
    // Its command works in the binary too (through its admin method on the database).
    expect((await run(bin, ["domain", "add", "hello.test", "--data", data], { cwd: home })).code).toBe(0);
    expect(await run(bin, ["hello", "--data", data], { cwd: home })).toMatchObject({ code: 0, stdout: "hello: 1 domains\n", stderr: "" });
    // Its config section is validated like the core's.
    writeFileSync(join(data, "kotakpos.toml"), "[hello]\ngreeting = 5\n");
    const bad = await run(bin, ["plugins", "--data", data], { cwd: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`config error: hello.greeting = 5: expected a string (in ${join(data, "kotakpos.toml")})`);
  }, 60_000);
});
