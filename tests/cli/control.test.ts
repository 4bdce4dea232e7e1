// The control socket: while a server runs, admin commands of the CLI run inside it (on
// its store, so sessions see the change); without one they open the database directly.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createConnection } from "node:net";
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { main } from "../../main.ts";
import type { Io } from "../../core/cli/io.ts";
import { controlSocketPath } from "../../core/cli/context.ts";
import type { AdminApi } from "../../core/control/api.ts";
import { startControlServer, type ControlServer } from "../../core/control/server.ts";
import { createLogger } from "../../core/log.ts";
import { runCli } from "../helpers/cli.ts";

let server: TestServer;
let control: ControlServer | null;
const calls: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ domains: ["example.test"] });
  // Record which operations ran in the server (a plugin's method by its "<plugin>.<method>").
  const api = server.admin;
  const spy = new Proxy(api, {
    get(target, key: string) {
      const fn = target[key as keyof AdminApi] as (...a: unknown[]) => unknown;
      return (...a: unknown[]) => {
        calls.push(key === "call" ? String(a[0]) : key);
        return fn(...a);
      };
    },
  });
  control = await startControlServer({ path: controlSocketPath(server.dataDir), api: spy, log: createLogger("error") });
});

afterAll(async () => {
  await control?.close();
  await server.cleanup();
});

const cli = (args: string[], stdin = "") => runCli(server.dataDir, args, stdin);

test("the socket exists with mode 0600", () => {
  expect(control).not.toBeNull();
  expect(statSync(controlSocketPath(server.dataDir)).mode & 0o777).toBe(0o600);
});

test("admin commands run in the server; the server's store sees them at once", async () => {
  calls.length = 0;
  expect((await cli(["user", "add", "alice@example.test", "--password-stdin"], "pw1\n")).code).toBe(0);
  expect(calls).toEqual(["isLocalDomain", "accountExists", "createAccount"]);
  expect(await server.core.store.verifyPassword("alice@example.test", "pw1")).not.toBeNull();
  expect((await cli(["user", "list"])).out).toBe("alice@example.test\n");
  expect((await cli(["alias", "add", "info@example.test", "alice@example.test"])).code).toBe(0);
  expect((await cli(["alias", "list"])).out).toBe("info@example.test -> alice@example.test\n");
  expect(calls).toContain("aliases.add");
});

test("errors of the server's store come back as one line, exit 1", async () => {
  const dup = await cli(["domain", "add", "example.test"]);
  expect(dup).toEqual({ code: 1, out: "", err: "kotakpos: domain example.test already exists\n" });
  const missing = await cli(["queue", "show", "nope"]);
  expect(missing.code).toBe(1);
  // The running server has the scheduler a bounce needs: nothing waits under that id.
  expect(await cli(["queue", "bounce", "nope"])).toEqual({ code: 1, out: "", err: "kotakpos: no waiting recipients of nope\n" });
});

test("plugins reports the live server", async () => {
  const r = await cli(["plugins"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("from the running server");
  for (const l of server.listeners) expect(r.out).toContain(`${l.name}:${l.port}`);
});

test("malformed and unknown requests get an error line, the connection stays usable", async () => {
  const sock = createConnection({ path: controlSocketPath(server.dataDir) });
  const lines: string[] = [];
  let buf = "";
  sock.on("data", (c) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  sock.write("not json\n");
  sock.write(JSON.stringify({ id: 2, method: "close", args: [] }) + "\n");
  sock.write(JSON.stringify({ id: 3, method: "constructor", args: [] }) + "\n");
  sock.write(JSON.stringify({ id: 4, method: "listDomains", args: [] }) + "\n");
  for (let i = 0; i < 200 && lines.length < 4; i++) await Bun.sleep(10);
  sock.destroy();
  const res = lines.map((l) => JSON.parse(l));
  expect(res[0]).toEqual({ id: 0, ok: false, error: "malformed request (not JSON)" });
  expect(res[1]).toMatchObject({ id: 2, ok: false });
  expect(res[2]).toMatchObject({ id: 3, ok: false });
  expect(res[3]).toEqual({ id: 4, ok: true, result: ["example.test"] });
});

test("a stale socket file: the CLI falls back to the database, a new server replaces it", async () => {
  const other = await startTestServer({ domains: ["stale.test"], keepData: true });
  try {
    const path = controlSocketPath(other.dataDir);
    // Left behind by a crashed server: a socket file nobody listens on. (The server is
    // stopped first: libSQL calls are synchronous, so a second database connection in
    // this same process would wait on the server's lock with the event loop blocked.)
    await other.stop();
    writeFileSync(path, "");
    let out = "";
    const io: Io = { out: (t) => void (out += t), err: () => {}, readStdin: async () => "", promptHidden: async () => null, env: {} };
    expect(await main(["domain", "list", "--data", other.dataDir], io)).toBe(0);
    expect(out).toBe("stale.test\n");
    const fresh = await startControlServer({ path, api: {} as AdminApi, log: createLogger("error") });
    expect(fresh).not.toBeNull();
    expect(statSync(path).isSocket()).toBe(true);
    await fresh!.close();
    expect(existsSync(path)).toBe(false);
  } finally {
    rmSync(other.dataDir, { recursive: true, force: true });
  }
});
