// Shared setup for the IMAP e2e tests: a test server with the imap plugin, users, and a
// tiny raw IMAP client for exact wire checks (the real clients are imaplib, imapflow, mbsync).
import * as net from "node:net";
import { startTestServer, type TestServer } from "./server.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import imap from "../../plugins/imap/index.ts";

export const USERS = [
  { address: "alice@example.test", password: "alice-pw-1" },
  { address: "bob@example.test", password: "bob-pw-2" },
];

export async function startImap(config: Record<string, unknown> = {}): Promise<TestServer> {
  const plugins = builtinPlugins.some((p) => p.name === "imap") ? builtinPlugins : [...builtinPlugins, imap];
  return startTestServer({ users: USERS, plugins, config });
}

export const PY = process.env.PYTHON ?? "python3";

/** Runs a python3 script (from stdin) with args; returns stdout, throws with stderr on failure. */
export async function python(script: string, args: string[] = [], timeoutMs = 20_000): Promise<string> {
  const p = Bun.spawn([PY, "-c", script, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill(), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`python exited ${code}:\n${err}\n${out}`);
  return out;
}

/** A raw line-oriented IMAP client for wire-level assertions. */
export class RawClient {
  private buf = "";
  private waiters: (() => void)[] = [];
  private n = 0;
  constructor(private sock: net.Socket) {
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  closed = false;

  static async connect(port: number): Promise<RawClient> {
    const sock = net.connect(port, "127.0.0.1");
    await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
    const c = new RawClient(sock);
    await c.readUntil(/^\* OK .*\r\n/m);
    return c;
  }

  write(s: string | Uint8Array): void {
    this.sock.write(s);
  }

  /** Waits until the buffer matches, returns and consumes everything up to the match end. */
  async readUntil(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        const end = m.index + m[0].length;
        const out = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        return out;
      }
      if (this.closed) throw new Error(`connection closed; buffer: ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; buffer: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Sends a tagged command; returns all lines up to and including the tagged response. */
  async cmd(command: string, timeoutMs = 5000): Promise<string> {
    const tag = `t${++this.n}`;
    this.write(`${tag} ${command}\r\n`);
    return this.readUntil(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, "m"), timeoutMs);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A raw client logged in as USERS[i]. */
export async function rawLogin(srv: TestServer, i = 0, service: "imap" = "imap"): Promise<RawClient> {
  const c = await RawClient.connect(srv.port(service));
  const r = await c.cmd(`LOGIN ${USERS[i]!.address} ${USERS[i]!.password}`);
  if (!/^t\d+ OK/m.test(r)) throw new Error(`login failed: ${r}`);
  return c;
}

/** Appends a message through the store (as delivery would) to a user's mailbox. */
export async function deliver(srv: TestServer, i: number, mailbox: string, raw: string, flags: string[] = []): Promise<number> {
  const store = srv.core.store;
  const acct = (await store.getAccount(USERS[i]!.address))!;
  const mb = (await store.getMailbox(acct.id, mailbox))!;
  return (await store.append(mb.id, new TextEncoder().encode(raw), { flags })).uid;
}
