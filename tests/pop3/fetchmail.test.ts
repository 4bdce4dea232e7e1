// fetchmail (Debian) downloading over POP3S (995): "leave on server" with UIDL, then
// "delete after download".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import pop3 from "../../plugins/pop3/index.ts";
import { deliver, inboxUids, makeMessage } from "../helpers/pop3.ts";

const ALICE = "alice@example.test";
let server: TestServer;
let dir: string;
const haveFetchmail = Bun.which("fetchmail") !== null;

beforeAll(async () => {
  server = await startTestServer({
    plugins: [pop3],
    users: [{ address: ALICE, password: "alice pw" }],
  });
  dir = mkdtempSync(join(tmpdir(), "kotakpos-fetchmail-"));
});
afterAll(async () => {
  await server?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run fetchmail once; returns its exit code and the messages its MDA received. */
async function fetchmail(run: string, flags: string[]): Promise<{ code: number; got: string[]; log: string }> {
  const out = join(dir, run);
  mkdirSync(out);
  const mda = join(dir, "mda.sh");
  writeFileSync(mda, `#!/bin/sh\nexec cat > "$(mktemp -p '${out}' msg.XXXXXX)"\n`);
  chmodSync(mda, 0o755);
  const rc = join(dir, "fetchmailrc");
  writeFileSync(
    rc,
    [
      "set no bouncemail",
      `poll 127.0.0.1 protocol POP3 service ${server.port("pop3s")} auth password`,
      `  user "${ALICE}" there with password "alice pw" is "${userInfo().username}" here`,
      `  ssl no sslcertck mda "${mda}"`,
      "",
    ].join("\n"),
  );
  chmodSync(rc, 0o600);
  const proc = Bun.spawn(["fetchmail", "-f", rc, "-i", join(dir, "uids"), "--nosyslog", "-v", ...flags], {
    env: { ...process.env, HOME: dir, FETCHMAILHOME: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [o, e, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const got = readdirSync(out).map((f) => readFileSync(join(out, f), "latin1"));
  return { code, got, log: o + e };
}

/** fetchmail hands the MDA LF line ends and may add a Received header on top. */
const delivered = (got: string[], msg: string) => got.some((g) => g.endsWith(msg.replace(/\r\n/g, "\n")));

describe.skipIf(!haveFetchmail)("fetchmail over POP3S", () => {
  test("keep with UIDL downloads each message once; delete empties the maildrop", async () => {
    const msgs = [makeMessage("fm one"), makeMessage("fm two", 4000), makeMessage("fm three")];
    for (const m of msgs) await deliver(server, ALICE, m);

    const first = await fetchmail("keep1", ["--keep", "--uidl"]);
    expect(first.code, first.log).toBe(0);
    expect(first.got).toHaveLength(3);
    for (const m of msgs) expect(delivered(first.got, m), first.log).toBe(true);
    expect(await inboxUids(server, ALICE)).toHaveLength(3);

    const again = await fetchmail("keep2", ["--keep", "--uidl"]);
    expect(again.code, again.log).toBe(1); // 1 = no new mail
    expect(again.got).toHaveLength(0);

    const late = makeMessage("fm four");
    await deliver(server, ALICE, late);
    const third = await fetchmail("keep3", ["--keep", "--uidl"]);
    expect(third.code, third.log).toBe(0);
    expect(third.got).toHaveLength(1);
    expect(delivered(third.got, late)).toBe(true);

    const all = await fetchmail("delete", ["--nokeep", "--fetchall"]);
    expect(all.code, all.log).toBe(0);
    expect(all.got).toHaveLength(4);
    expect(await inboxUids(server, ALICE)).toHaveLength(0);

    const empty = await fetchmail("empty", ["--nokeep", "--fetchall"]);
    expect(empty.code, empty.log).toBe(1);
  });
});
