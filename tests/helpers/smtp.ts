// Shared pieces of the SMTP e2e tests: a test server with the smtp plugin, running real
// clients (swaks, python3 smtplib) without blocking the in-process server, a raw socket
// client for hostile input, and reading a mailbox through the store API.
import * as net from "node:net";
import { StringDecoder } from "node:string_decoder";
import { startTestServer, type TestServer, type TestServerOptions } from "./server.ts";
import smtp from "../../plugins/smtp/index.ts";

export async function smtpServer(opts: TestServerOptions = {}): Promise<TestServer> {
  return startTestServer({ plugins: [smtp], ...opts });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawn asynchronously (the server lives in this process: spawnSync would block it). */
export async function run(cmd: string[], stdin?: string): Promise<RunResult> {
  const p = Bun.spawn(cmd, { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export function swaks(port: number, args: string[]): Promise<RunResult> {
  return run(["swaks", "--server", "127.0.0.1", "--port", String(port), "--timeout", "20", "--hide-informational", ...args]);
}

export interface SendSpec {
  from: string;
  to: string[];
  msg: string;
  /** Host to connect to (default 127.0.0.1; "localhost" makes TLS clients send SNI). */
  host?: string;
  ssl?: boolean;
  starttls?: boolean;
  login?: [string, string];
  mail_options?: string[];
  rcpt_options?: string[];
}

export interface SendResult {
  ok: boolean;
  refused?: Record<string, [number, string]>;
  recipients?: Record<string, [number, string]>;
  error?: string;
  code?: number;
  msg?: string;
  esmtp_features?: string[];
}

/** Send one message with python3's smtplib (smtplib-send.py). */
export async function pySend(port: number, spec: SendSpec): Promise<SendResult> {
  const r = await run(["python3", `${import.meta.dir}/smtplib-send.py`, String(port), JSON.stringify(spec)]);
  if (r.code !== 0) throw new Error(`smtplib-send.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SendResult;
}

/** The raw messages in a user's mailbox, via the store API. */
export async function mailbox(s: TestServer, address: string, name = "INBOX"): Promise<string[]> {
  const store = s.core.store;
  const acct = await store.getAccount(address);
  if (!acct) throw new Error(`no account ${address}`);
  const mb = await store.getMailbox(acct.id, name);
  if (!mb) return [];
  const out: string[] = [];
  for (const m of await store.messages(mb.id)) out.push(Buffer.from(await store.read(m)).toString("utf8"));
  return out;
}

/** A raw TCP SMTP client for input no real client would send. */
export interface RawClient {
  send(data: string | Uint8Array): void;
  /** Send; resolves when the last byte has been handed to the kernel. */
  sendAll(data: string | Uint8Array): Promise<void>;
  /** Wait for `n` more final reply lines ("ddd ") or the close; returns them. */
  replies(n?: number): Promise<string[]>;
  /** All bytes received so far. */
  readonly received: string;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  end(): void;
}

export async function raw(port: number): Promise<RawClient> {
  const sock = net.connect({ host: "127.0.0.1", port });
  let buf = "";
  const decoder = new StringDecoder("utf8");
  let consumed = 0;
  let closed = false;
  let wake: (() => void) | null = null;
  const closedP = new Promise<void>((res) =>
    sock.on("close", () => {
      closed = true;
      wake?.();
      res();
    }),
  );
  sock.on("error", () => {});
  sock.on("data", (d: Buffer) => {
    buf += decoder.write(d);
    wake?.();
  });
  await new Promise<void>((res, rej) => {
    sock.once("connect", () => res());
    sock.once("error", rej);
  });
  const finals = () => buf.split("\r\n").filter((l) => /^\d{3} /.test(l));
  const client: RawClient = {
    send(data) {
      sock.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
    },
    sendAll(data) {
      return new Promise((res, rej) => sock.write(typeof data === "string" ? Buffer.from(data, "latin1") : data, (err) => (err ? rej(err) : res())));
    },
    async replies(n = 1) {
      const deadline = Date.now() + 20_000;
      while (finals().length < consumed + n && !closed && Date.now() < deadline) {
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 100);
        });
        wake = null;
      }
      const got = finals().slice(consumed, consumed + n);
      consumed += got.length;
      return got;
    },
    get received() {
      return buf;
    },
    closed: closedP,
    isClosed: () => closed,
    end() {
      sock.end();
    },
  };
  return client;
}
