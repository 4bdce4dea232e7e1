// Python's aiosmtpd (Debian python3-aiosmtpd) as a peer MTA someone else wrote.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";

export interface SinkMessage {
  mailFrom: string;
  mailOptions: string[];
  rcptTo: string[];
  rcptOptions: string[][];
  tls: boolean;
  helo: string;
  data: string;
}

export interface Aiosmtpd {
  port: number;
  dir: string;
  messages(): SinkMessage[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Wait until something listens on 127.0.0.1:port (or the process exits). */
export async function waitPort(port: number, proc: { exitCode: number | null }, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`nothing listens on ${port} after ${ms} ms`);
}

/** A self-signed certificate for 127.0.0.1 / localhost (PEM files in dir). */
export async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await $`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout ${key} -out ${cert}`.quiet();
  return { cert, key };
}

/** `handler`: another handler class ("module.Class") and the folder its module is in. */
export async function startAiosmtpd(opts: { tls?: boolean; smtputf8?: boolean; size?: number; port?: number; handler?: { cls: string; dir: string } } = {}): Promise<Aiosmtpd> {
  const dir = mkdtempSync(join(tmpdir(), "kp-aiosmtpd-"));
  const port = opts.port ?? (await freePort());
  const args = ["-m", "aiosmtpd", "-n", "-l", `127.0.0.1:${port}`, "-c", opts.handler?.cls ?? "sink.Sink"];
  if (opts.smtputf8) args.push("-u");
  if (opts.size) args.push("-s", String(opts.size));
  if (opts.tls) {
    const { cert, key } = await selfSigned(dir);
    args.push("--tlscert", cert, "--tlskey", key, "--no-requiretls");
  }
  args.push(dir);
  const proc = Bun.spawn(["/usr/bin/python3", ...args], {
    env: { ...process.env, PYTHONPATH: opts.handler ? `${import.meta.dir}:${opts.handler.dir}` : import.meta.dir },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    await waitPort(port, proc);
  } catch (e) {
    proc.kill();
    throw e;
  }
  return {
    port,
    dir,
    messages() {
      return readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as SinkMessage);
    },
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
