// `kotakpos alias …` in-process (main.ts) on a fresh data dir: the options of the
// aliases plugin's admin (groups, members-only, senders, append/replace, targets removed,
// domain aliases) and its refusals as one-line errors.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";

const data = mkdtempSync(join(tmpdir(), "kotakpos-aliases-cli-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(data, args, "pw\n");

test("alias admin through the CLI", async () => {
  expect((await cli("domain", "add", "example.test")).code).toBe(0);
  for (const u of ["alice", "bob", "carol"]) expect((await cli("user", "add", `${u}@example.test`, "--password-stdin")).code).toBe(0);

  expect(await cli("alias", "add", "board@example.test", "alice@example.test", "bob@example.test", "--members-only", "--sender", "carol@example.test")).toMatchObject({ code: 0 });
  expect((await cli("alias", "add", "board@example.test", "carol@example.test", "--append")).code).toBe(0);
  expect((await cli("alias", "list")).out).toBe("board@example.test -> alice@example.test, bob@example.test, carol@example.test  (group; members-only; senders: carol@example.test)\n");
  expect((await cli("alias", "add", "board@example.test", "alice@example.test")).err).toBe("kotakpos: alias board@example.test already exists (delete it first)\n");

  // Loops and dead targets are refused with the reason; nothing is written.
  expect((await cli("alias", "add", "a@example.test", "alice@example.test")).code).toBe(0);
  expect((await cli("alias", "add", "b@example.test", "a@example.test")).code).toBe(0);
  const loop = await cli("alias", "add", "a@example.test", "b@example.test", "--replace");
  expect(loop).toEqual({ code: 1, out: "", err: "kotakpos: refused: alias loop: a@example.test -> b@example.test -> a@example.test\n" });
  expect((await cli("alias", "add", "c@example.test", "ghost@example.test")).err).toBe("kotakpos: no such user or alias: ghost@example.test\n");
  expect((await cli("alias", "add", "d@example.test", "alice@example.test", "--sender", "ghost@example.test")).err).toContain("ghost@example.test is not a user");
  expect((await cli("alias", "add", "e@example.test", "alice@example.test", "--append", "--replace")).code).toBe(2);

  // A user's own address: forward and keep a copy.
  expect((await cli("alias", "add", "bob@example.test", "bob@elsewhere.test")).code).toBe(1);
  expect((await cli("alias", "add", "bob@example.test", "bob@example.test", "bob@elsewhere.test")).code).toBe(0);

  // Remove one target, then the alias.
  expect((await cli("alias", "del", "board@example.test", "alice@example.test")).out).toBe("removed alice@example.test from board@example.test\n");
  expect((await cli("alias", "list")).out).toContain("board@example.test -> bob@example.test, carol@example.test  (group; members-only;");
  expect((await cli("alias", "del", "board@example.test")).code).toBe(0);
  expect((await cli("alias", "del", "board@example.test")).code).toBe(1);

  // Domain aliases.
  expect((await cli("alias", "domain", "add", "example.org", "example.test")).out).toBe("added domain alias example.org -> example.test\n");
  expect((await cli("alias", "domain", "add", "example.test", "example.org")).err).toContain("loop");
  expect((await cli("alias", "domain", "list")).out).toBe("example.org -> example.test\n");
  expect((await cli("alias", "domain", "del", "example.org")).code).toBe(0);
  expect((await cli("alias", "domain", "del", "example.org")).code).toBe(1);
  expect((await cli("alias", "--help")).out).toContain("alias domain add|list|del");
  expect((await cli("alias", "add", "--help")).out).toContain("--members-only");
});
