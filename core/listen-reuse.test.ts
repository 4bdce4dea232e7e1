// Connection.writeReusable's promise (POP3 refills its output buffer on it): when it says
// the connection kept no reference, overwriting the buffer at once never changes what the
// peer receives — over plain TCP, implicit TLS and STARTTLS, with a peer that stops reading
// so later writes queue behind earlier ones.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import * as tls from "node:tls";
import selfsigned from "selfsigned";
import { createListenerSet, type ListenerSet } from "./listen.ts";
import { createLogger } from "./log.ts";
import type { Connection, Tls } from "./types.ts";

let pem: { key: string; cert: string };
let set: ListenerSet;
const t: Tls = { certificateFor: async () => pem, certificates: async () => ({ fallback: pem, named: [] }), changed: () => {}, onChange: () => () => {} };

beforeAll(async () => {
  const p = await selfsigned.generate([{ name: "commonName", value: "localhost" }], { keySize: 2048, algorithm: "sha256" });
  pem = { key: p.private, cert: p.cert };
  set = createListenerSet({ address: "127.0.0.1", portOffset: 0, maxPerIp: 10, log: createLogger("error"), tls: t });
});
afterAll(() => set.shutdown(100));

const CHUNK = 64 * 1024;
const CHUNKS = 256; // 16 MiB: far more than the socket buffers hold while the peer waits

/** Chunk k is filled with byte (k % 251) + 1; a reused buffer is scribbled over (0x00)
 *  right after a write that said it was let go of. */
function blast(conn: Connection, counts: { reused: number; kept: number }): void {
  let buf = Buffer.allocUnsafe(CHUNK);
  for (let k = 0; k < CHUNKS; k++) {
    buf.fill((k % 251) + 1);
    if (conn.writeReusable!(buf)) {
      counts.reused++;
      buf.fill(0);
    } else {
      counts.kept++;
      buf = Buffer.allocUnsafe(CHUNK);
    }
  }
}

/** Reads everything after a pause and checks each chunk's bytes. */
async function receive(s: net.Socket | tls.TLSSocket): Promise<void> {
  s.pause();
  await Bun.sleep(100);
  const parts: Buffer[] = [];
  let n = 0;
  await new Promise<void>((res, rej) => {
    s.on("data", (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= CHUNK * CHUNKS) res();
    });
    s.on("error", rej);
    s.resume();
  });
  const all = Buffer.concat(parts);
  expect(all.length).toBe(CHUNK * CHUNKS);
  for (let k = 0; k < CHUNKS; k++) {
    const c = all.subarray(k * CHUNK, (k + 1) * CHUNK);
    const want = (k % 251) + 1;
    if (c[0] !== want || c[CHUNK - 1] !== want || c.some((b) => b !== want)) throw new Error(`chunk ${k} was changed after it was written`);
  }
  s.destroy();
}

describe("writeReusable", () => {
  for (const mode of ["plain", "implicit-tls", "starttls"] as const) {
    test(`${mode}: a buffer reported free is not the one sent; later writes queue as copies`, async () => {
      const counts = { reused: 0, kept: 0 };
      const l = await set.listen({
        name: `reuse-${mode}`,
        port: 0,
        mode: mode === "implicit-tls" ? "implicit-tls" : "plain",
        onConnection(conn) {
          if (mode !== "starttls") return blast(conn, counts);
          conn.onData(async () => {
            conn.write("go\r\n");
            await conn.upgradeTls();
            blast(conn, counts);
          });
        },
      });
      let s: net.Socket | tls.TLSSocket;
      if (mode === "implicit-tls") s = tls.connect({ port: l.port, host: "127.0.0.1", rejectUnauthorized: false, servername: "localhost" });
      else {
        s = net.connect(l.port, "127.0.0.1");
        if (mode === "starttls") {
          await new Promise((r) => s.once("connect", r));
          s.write("STARTTLS\r\n");
          await new Promise((r) => s.once("data", r));
          s = tls.connect({ socket: s, rejectUnauthorized: false, servername: "localhost" });
        }
      }
      await receive(s);
      expect(counts.reused + counts.kept).toBe(CHUNKS);
      // The transport copies what the socket could not take (most of the 16 MiB here, the
      // peer not reading): every buffer is free again at once, and receive() checked that
      // scribbling over each one changed nothing the peer got.
      expect(counts.reused).toBe(CHUNKS);
    });
  }
});
