// The CLI run in-process (main.ts `main(argv, io)`), with a scripted terminal: the
// admin commands against a real database, exit codes and one-line errors.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../main.ts";
import type { Io } from "../../core/cli/io.ts";
import { openDb } from "../../core/db/open.ts";
import { createStore } from "../../core/store/index.ts";
import { createLogger } from "../../core/log.ts";

const tmp = mkdtempSync(join(tmpdir(), "kotakpos-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshData = () => join(tmp, `d${++n}`);

interface Result {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI with --data; `stdin` for --password-stdin, `typed` for the prompt (null: no terminal). */
async function cli(data: string, args: string[], opts: { stdin?: string; typed?: string[] | null; env?: Record<string, string> } = {}): Promise<Result> {
  let out = "";
  let err = "";
  const typed = opts.typed === undefined ? null : opts.typed === null ? null : [...opts.typed];
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    readStdin: async () => opts.stdin ?? "",
    promptHidden: async () => (typed === null ? null : (typed.shift() ?? "")),
    env: { ...opts.env },
  };
  const code = await main([...args, "--data", data], io);
  return { code, out, err };
}

/** Check a password through the store, as the auth hook does. */
async function passwordWorks(data: string, address: string, password: string): Promise<boolean> {
  const db = await openDb({ url: `file:${join(data, "kotakpos.db")}` });
  try {
    const store = await createStore({ db, blobDir: join(data, "blobs"), log: createLogger("error") });
    return (await store.verifyPassword(address, password)) !== null;
  } finally {
    await db.close();
  }
}

describe("domain", () => {
  test("add, list, del; duplicates and bad names", async () => {
    const d = freshData();
    expect(await cli(d, ["domain", "add", "b.test"])).toEqual({ code: 0, out: "added domain b.test\n", err: "" });
    expect((await cli(d, ["domain", "add", "A.Test."])).out).toBe("added domain a.test\n");
    expect((await cli(d, ["domain", "list"])).out.split("\n").filter(Boolean).sort()).toEqual(["a.test", "b.test"]);
    expect(await cli(d, ["domain", "add", "a.test"])).toEqual({ code: 1, out: "", err: "kotakpos: domain a.test already exists\n" });
    const bad = await cli(d, ["domain", "add", "not_a domain"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('kotakpos: "not_a domain" is not a domain name like example.com\n');
    expect((await cli(d, ["domain", "del", "b.test"])).code).toBe(0);
    expect((await cli(d, ["domain", "del", "b.test"])).err).toBe("kotakpos: no domain b.test\n");
    expect((await cli(d, ["domain", "list"])).out).toBe("a.test\n");
  });

  test("a domain with users is not deleted", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "c.test"]);
    await cli(d, ["user", "add", "u@c.test", "--password-stdin"], { stdin: "pw\n" });
    const r = await cli(d, ["domain", "del", "c.test"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("still has 1 user");
  });
});

describe("user", () => {
  test("add with the prompt (typed twice, no echo), passwd from stdin, del", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "example.test"]);
    expect((await cli(d, ["user", "add", "alice@example.test"], { typed: ["correct horse", "correct horse"] })).code).toBe(0);
    expect(await passwordWorks(d, "alice@example.test", "correct horse")).toBe(true);
    const mismatch = await cli(d, ["user", "add", "bob@example.test"], { typed: ["one", "two"] });
    expect(mismatch).toEqual({ code: 1, out: "", err: "kotakpos: the passwords do not match\n" });
    expect((await cli(d, ["user", "list"])).out).toBe("alice@example.test\n");

    // The first line of stdin is the password (a trailing CRLF is not part of it).
    expect((await cli(d, ["user", "passwd", "alice@example.test", "--password-stdin"], { stdin: "new pass\r\nignored\n" })).code).toBe(0);
    expect(await passwordWorks(d, "alice@example.test", "new pass")).toBe(true);
    expect(await passwordWorks(d, "alice@example.test", "correct horse")).toBe(false);

    expect((await cli(d, ["user", "passwd", "nobody@example.test", "--password-stdin"], { stdin: "x\n" })).err).toBe("kotakpos: no user nobody@example.test\n");
    expect((await cli(d, ["user", "add", "e@example.test", "--password-stdin"], { stdin: "\n" })).err).toBe("kotakpos: the password is empty\n");
    expect((await cli(d, ["user", "del", "alice@example.test"])).code).toBe(0);
    expect((await cli(d, ["user", "del", "alice@example.test"])).code).toBe(1);
    expect((await cli(d, ["user", "list"])).out).toBe("");
  });

  test("quota: show, set storage and messages, clear; bad sizes", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "example.test"]);
    await cli(d, ["user", "add", "q@example.test", "--password-stdin"], { stdin: "pw\n" });
    expect((await cli(d, ["user", "quota", "q@example.test"])).out).toBe("q@example.test storage 0 KiB of unlimited, messages 0 of unlimited\n");
    expect((await cli(d, ["user", "quota", "q@example.test", "--storage", "500M"])).out).toBe("q@example.test storage 0 KiB of 512000 KiB, messages 0 of unlimited\n");
    expect((await cli(d, ["user", "quota", "q@example.test", "--messages", "1000"])).out).toBe("q@example.test storage 0 KiB of 512000 KiB, messages 0 of 1000\n");
    expect((await cli(d, ["user", "quota", "q@example.test", "--storage", "none"])).out).toBe("q@example.test storage 0 KiB of unlimited, messages 0 of 1000\n");
    expect((await cli(d, ["user", "quota", "q@example.test", "--storage", "lots"])).err).toBe("kotakpos: bad size lots (e.g. 500M, 2G, none)\n");
    expect((await cli(d, ["user", "quota", "nobody@example.test"])).err).toBe("kotakpos: no user nobody@example.test\n");
  });

  test("disable and enable: no login while disabled; list shows it", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "example.test"]);
    await cli(d, ["user", "add", "dis@example.test", "--password-stdin"], { stdin: "a long password\n" });
    expect((await cli(d, ["user", "disable", "dis@example.test"])).out).toBe("disabled user dis@example.test\n");
    expect((await cli(d, ["user", "list"])).out).toBe("dis@example.test (disabled)\n");
    expect((await cli(d, ["user", "enable", "dis@example.test"])).out).toBe("enabled user dis@example.test\n");
    expect((await cli(d, ["user", "list"])).out).toBe("dis@example.test\n");
    expect((await cli(d, ["user", "disable", "nobody@example.test"])).err).toBe("kotakpos: no user nobody@example.test\n");
  });

  test("the password is never an argument", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "example.test"]);
    const r = await cli(d, ["user", "add", "x@example.test", "--password", "secret"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n").filter(Boolean)).toHaveLength(1);
    expect((await cli(d, ["user", "add", "x@example.test", "secret"])).code).toBe(2);
    expect((await cli(d, ["user", "add", "x@example.test"], { typed: null })).err).toBe("kotakpos: no terminal to ask for the password: use --password-stdin\n");
  });

  test("user list DOMAIN filters; bad addresses are usage errors", async () => {
    const d = freshData();
    for (const dom of ["a.test", "b.test"]) await cli(d, ["domain", "add", dom]);
    await cli(d, ["user", "add", "one@a.test", "--password-stdin"], { stdin: "p\n" });
    await cli(d, ["user", "add", "two@b.test", "--password-stdin"], { stdin: "p\n" });
    expect((await cli(d, ["user", "list", "b.test"])).out).toBe("two@b.test\n");
    for (const bad of ["no-at-sign", "@a.test", "a b@a.test", "x@"]) {
      expect((await cli(d, ["user", "add", bad, "--password-stdin"], { stdin: "p\n" })).code, bad).toBe(2);
    }
  });
});

describe("alias", () => {
  test("add, list, del; catch-all; checks", async () => {
    const d = freshData();
    await cli(d, ["domain", "add", "example.test"]);
    await cli(d, ["user", "add", "alice@example.test", "--password-stdin"], { stdin: "p\n" });
    expect((await cli(d, ["alias", "add", "Info@Example.test", "alice@example.test", "ext@remote.test"])).code).toBe(0);
    expect((await cli(d, ["alias", "add", "@example.test", "alice@example.test"])).code).toBe(0);
    expect((await cli(d, ["alias", "list"])).out).toBe("@example.test -> alice@example.test\ninfo@example.test -> alice@example.test, ext@remote.test\n");
    expect((await cli(d, ["alias", "add", "info@example.test", "alice@example.test"])).err).toBe("kotakpos: alias info@example.test already exists (delete it first)\n");
    expect((await cli(d, ["alias", "add", "alice@example.test", "x@remote.test"])).code).toBe(1);
    expect((await cli(d, ["alias", "add", "x@other.test", "alice@example.test"])).err).toContain("no domain other.test");
    expect((await cli(d, ["alias", "add", "lonely@example.test"])).err).toBe("kotakpos: missing TARGET\n");
    expect((await cli(d, ["alias", "add", "a@example.test", "not-an-address"])).code).toBe(2);
    expect((await cli(d, ["alias", "del", "info@example.test"])).code).toBe(0);
    expect((await cli(d, ["alias", "del", "info@example.test"])).code).toBe(1);
    expect((await cli(d, ["alias", "list"])).out).toBe("@example.test -> alice@example.test\n");
  });
});

describe("queue, plugins, help", () => {
  test("queue on an empty spool", async () => {
    const d = freshData();
    expect(await cli(d, ["queue", "list"])).toEqual({ code: 0, out: "", err: "" });
    expect(await cli(d, ["queue", "show", "nope"])).toEqual({ code: 1, out: "", err: "kotakpos: no queued message nope\n" });
    expect((await cli(d, ["queue", "delete", "nope"])).code).toBe(1);
    expect((await cli(d, ["queue", "retry"])).code).toBe(2);
    expect(await cli(d, ["queue", "bounce", "nope"])).toEqual({ code: 1, out: "", err: "kotakpos: bouncing needs the running server (its scheduler sends the notice)\n" });
  });

  test("plugins prints the hook order, including the core's defaults", async () => {
    const r = await cli(freshData(), ["plugins"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^plugins: /);
    expect(r.out).toMatch(/^ {2}auth\s+\S/m);
    expect(r.out).toMatch(/^ {2}route\s+\S/m);
  });

  test("--help on every command and subcommand exits 0 without touching the data dir", async () => {
    const d = freshData();
    const cmds = [["serve"], ["domain"], ["domain", "add"], ["user"], ["user", "add"], ["user", "passwd"], ["alias"], ["alias", "add"], ["queue"], ["queue", "show"], ["plugins"], ["version"]];
    for (const c of cmds) {
      const r = await cli(d, [...c, "--help"]);
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.out, c.join(" ")).toContain(`kotakpos ${c.join(" ")}`);
      expect(r.out, c.join(" ")).toContain("--config FILE");
    }
    expect((await cli(d, ["help", "user"])).out).toContain("kotakpos user passwd");
    expect(await Bun.file(join(d, "kotakpos.toml")).exists()).toBe(false);
  });

  test("a config error in an admin command is exit 2 with the message", async () => {
    const r = await cli(freshData(), ["domain", "list"], { env: { KOTAKPOS_LOG_LEVEL: "loud" } });
    expect(r).toEqual({ code: 2, out: "", err: 'config error: log.level = "loud": expected one of "debug", "info", "warn", "error" (from KOTAKPOS_LOG_LEVEL)\n' });
  });

  test("global options may come before the command", async () => {
    const d = freshData();
    let out = "";
    const io: Io = { out: (t) => void (out += t), err: () => {}, readStdin: async () => "", promptHidden: async () => null, env: {} };
    expect(await main(["--data", d, "domain", "add", "first.test"], io)).toBe(0);
    expect(await main([`--data=${d}`, "domain", "list"], io)).toBe(0);
    expect(out).toBe("added domain first.test\nfirst.test\n");
  });

  test("KOTAKPOS_DATA is the default data dir", async () => {
    const d = freshData();
    let out = "";
    const io: Io = { out: (t) => void (out += t), err: () => {}, readStdin: async () => "", promptHidden: async () => null, env: { KOTAKPOS_DATA: d } };
    expect(await main(["domain", "add", "env.test"], io)).toBe(0);
    expect((await cli(d, ["domain", "list"])).out).toBe("env.test\n");
  });
});
