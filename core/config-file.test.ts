import { afterAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { parse as parseToml } from "smol-toml";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, renderDefaultConfig } from "./config-file.ts";
import { CORE_KEY_DOCS, coreLeaves, envName } from "./config-doc.ts";
import { definePlugin } from "./types.ts";

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "kotakpos-cfg-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const plugin = definePlugin({
  name: "greeter",
  config: v.object({
    greeting: v.optional(v.pipe(v.string(), v.description("Text of the greeting")), "hello"),
    repeat: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1),
  }),
  setup() {},
});

/** Load with a file body and an environment; returns the config or the error message. */
async function load(body: string | null, env: Record<string, string> = {}, extra: Partial<Parameters<typeof loadConfig>[0]> = {}) {
  const dataDir = tmp();
  if (body !== null) writeFileSync(join(dataDir, "kotakpos.toml"), body);
  return loadConfig({ dataDir, env, warn: () => {}, ...extra });
}
async function errorOf(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("first start writes a commented default file that parses to the defaults", async () => {
    const dataDir = join(tmp(), "nested", "data");
    const cfg = await loadConfig({ dataDir, env: {}, plugins: [plugin] });
    const file = join(dataDir, "kotakpos.toml");
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# port = 25");
    expect(text).toContain("[greeter]");
    expect(text).toContain("# Text of the greeting");
    expect(cfg.delivery.port).toBe(25);
    expect(cfg.listen.address).toBe("0.0.0.0");
    // Uncommenting every key gives a file equal to the defaults.
    const uncommented = text.replace(/^# (\w+ = )/gm, "$1");
    const parsed = parseToml(uncommented) as Record<string, unknown>;
    const again = await load(uncommented.replace(/^portOffset = .*$/m, ""), {}, { plugins: [plugin] });
    const { greeter: _g1, ...a } = again as Record<string, unknown>;
    const { greeter: _g2, ...b } = cfg as Record<string, unknown>;
    expect(a).toEqual(b);
    expect((parsed.greeter as Record<string, unknown>).repeat).toBe(1);
  });

  test("every core key is documented in the default file and the README", () => {
    const text = renderDefaultConfig();
    const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");
    for (const leaf of coreLeaves()) {
      const key = leaf.path.join(".");
      expect(CORE_KEY_DOCS[key], key).toBeString();
      expect(text).toContain(`# ${leaf.path.at(-1)} = `);
      expect(readme, key).toContain(`\`${key}\``);
    }
  });

  test("values from the file are used", async () => {
    const cfg = await load('hostname = "mx.example.org"\n[delivery]\nport = 2525\n[dns]\nservers = ["127.0.0.1:5353"]\n');
    expect(cfg.hostname).toBe("mx.example.org");
    expect(cfg.delivery.port).toBe(2525);
    expect(cfg.delivery.concurrency).toBe(20);
    expect(cfg.dns.servers).toEqual(["127.0.0.1:5353"]);
  });

  test("env overrides the file, coerced by type", async () => {
    const cfg = await load("[delivery]\nport = 2525\n", {
      KOTAKPOS_DELIVERY_PORT: "3535",
      KOTAKPOS_LISTEN_ADDRESS: "127.0.0.1",
      KOTAKPOS_DNS_SERVERS: "127.0.0.1:5353, 10.0.0.1",
      KOTAKPOS_AUTH_ALLOW_PLAINTEXT_ON_LOOPBACK: "true",
      KOTAKPOS_LISTEN_PORT_OFFSET: "20000",
      KOTAKPOS_LISTEN_PORTS_IMAPS: "0",
    });
    expect(cfg.delivery.port).toBe(3535);
    expect(cfg.listen.address).toBe("127.0.0.1");
    expect(cfg.dns.servers).toEqual(["127.0.0.1:5353", "10.0.0.1"]);
    expect(cfg.auth.allowPlaintextOnLoopback).toBe(true);
    expect(cfg.listen.portOffset).toBe(20000);
    expect(cfg.listen.ports.imaps).toBe(0);
    expect(envName(["listen", "portOffset"])).toBe("KOTAKPOS_LISTEN_PORT_OFFSET");
  });

  test("overrides beat env and file", async () => {
    const cfg = await load('[listen]\naddress = "::"\n', { KOTAKPOS_LISTEN_ADDRESS: "10.0.0.1" }, { overrides: { listen: { address: "127.0.0.2" } } });
    expect(cfg.listen.address).toBe("127.0.0.2");
  });

  test("a bad value names the key, the value, what is expected and the file", async () => {
    const dataDir = tmp();
    const file = join(dataDir, "kotakpos.toml");
    writeFileSync(file, '[delivery]\nport = "abc"\n');
    const e = await errorOf(loadConfig({ dataDir, env: {} }));
    expect(e.message).toBe(`config error: delivery.port = "abc": expected a whole number from 0 to 65535 (in ${file})`);
    expect(e.key).toBe("delivery.port");
  });

  test("a bad env value names the variable", async () => {
    const e = await errorOf(load(null, { KOTAKPOS_DELIVERY_PORT: "abc" }));
    expect(e.message).toBe('config error: delivery.port = "abc": expected a whole number from 0 to 65535 (from KOTAKPOS_DELIVERY_PORT)');
  });

  test("list items, picklists, regexes and booleans are explained", async () => {
    expect((await errorOf(load('[dns]\nservers = ["1.2.3.4", "not an ip"]\n'))).message).toMatch(
      /^config error: dns\.servers\[1\] = "not an ip": expected an IP address with an optional :port \(in .*kotakpos\.toml\)$/,
    );
    expect((await errorOf(load('[log]\nlevel = "loud"\n'))).message).toContain('log.level = "loud": expected one of "debug", "info", "warn", "error"');
    expect((await errorOf(load('hostname = "no spaces allowed"\n'))).message).toContain("expected a host name like mail.example.com");
    expect((await errorOf(load('[auth]\nallowPlaintextOnLoopback = "yes"\n'))).message).toContain('= "yes": expected true or false');
    expect((await errorOf(load("[delivery]\nport = 70000\n"))).message).toContain("delivery.port = 70000: expected a whole number from 0 to 65535");
    expect((await errorOf(load('listen = "x"\n'))).message).toContain('listen = "x": expected a table of keys');
  });

  test("unknown keys inside core sections are errors", async () => {
    expect((await errorOf(load('[listen]\nadress = "::"\n'))).message).toMatch(/^config error: listen\.adress: unknown key \(in .*\)$/);
  });

  test("TOML syntax errors give the line", async () => {
    expect((await errorOf(load("[delivery\nport = 1\n"))).message).toMatch(/^config error: TOML syntax error at line 1, column \d+: .+ \(in .*kotakpos\.toml\)$/);
  });

  test("an explicit --config file must exist; the default path is created", async () => {
    const dataDir = tmp();
    const e = await errorOf(loadConfig({ dataDir, configFile: join(dataDir, "missing.toml"), env: {} }));
    expect(e.message).toContain("does not exist");
    const other = join(tmp(), "custom.toml");
    writeFileSync(other, "[limits]\nmaxRecipients = 7\n");
    expect((await loadConfig({ dataDir, configFile: other, env: {} })).limits.maxRecipients).toBe(7);
    expect(existsSync(join(dataDir, "kotakpos.toml"))).toBe(false);
  });

  test("plugin sections: env overrides, validation with the same message, warnings", async () => {
    const warnings: string[] = [];
    const cfg = await load(
      '[greeter]\ngreeting = "hi"\n[nosuch]\nx = 1\n',
      { KOTAKPOS_GREETER_REPEAT: "3", KOTAKPOS_LISTEN_ADRESS: "x", KOTAKPOS_SQLD: "1", KOTAKPOS_DATA: "/x" },
      {
        plugins: [plugin],
        warn: (m) => warnings.push(m),
      },
    );
    expect((cfg as Record<string, unknown>).greeter).toEqual({ greeting: "hi", repeat: 3 });
    expect(warnings.some((w) => w.includes("[nosuch]"))).toBe(true);
    expect(warnings.some((w) => w.includes("KOTAKPOS_LISTEN_ADRESS"))).toBe(true);
    expect(warnings.some((w) => w.includes("KOTAKPOS_SQLD") || w.includes("KOTAKPOS_DATA"))).toBe(false);
    const e = await errorOf(load("[greeter]\nrepeat = 0\n", {}, { plugins: [plugin] }));
    expect(e.message).toMatch(/^config error: greeter\.repeat = 0: expected a whole number of at least 1 \(in .*\)$/);
    const e2 = await errorOf(load("[greeter]\nrepaet = 2\n", {}, { plugins: [plugin] }));
    expect(e2.message).toContain("greeter.repaet: unknown key");
  });
});
