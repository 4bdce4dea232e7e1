import { expect, test } from "bun:test";
import * as net from "node:net";
import * as tls from "node:tls";
import { scanClientHello } from "./client-hello.ts";

/** The first bytes a real client (node:tls) sends, with and without SNI. */
async function captureHello(servername?: string): Promise<Buffer> {
  let got = Buffer.alloc(0);
  const srv = net.createServer((s) => s.on("data", (d: Buffer) => (got = Buffer.concat([got, d]))));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const c = tls.connect({ port: (srv.address() as net.AddressInfo).port, host: "127.0.0.1", servername, rejectUnauthorized: false });
  c.on("error", () => {});
  while (got.length < 5 || got.length < 5 + got.readUInt16BE(3)) await Bun.sleep(5);
  c.destroy();
  srv.close();
  return got;
}

test("the server name of a real ClientHello, whole and in every split", async () => {
  const hello = await captureHello("Mail.Example.TEST");
  expect(scanClientHello(hello)).toEqual({ kind: "done", servername: "mail.example.test" });
  for (let i = 0; i < hello.length; i++) expect(scanClientHello(hello.subarray(0, i)).kind).toBe("more");
  // The same hello cut into two records (RFC 8446 §5.1 lets a handshake message span records).
  const body = hello.subarray(5);
  const cut = 40;
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([22, 3, 1, b.length >> 8, b.length & 255]), b]);
  expect(scanClientHello(Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]))).toEqual({ kind: "done", servername: "mail.example.test" });
});

test("no SNI, and bytes that are not a ClientHello", async () => {
  const hello = await captureHello(undefined);
  expect(scanClientHello(hello)).toEqual({ kind: "done" });
  expect(scanClientHello(Buffer.from("EHLO x\r\n"))).toEqual({ kind: "done", bad: true });
  expect(scanClientHello(Buffer.from([22, 3, 1, 0, 0]))).toEqual({ kind: "done", bad: true });
  // A handshake record that is not a client_hello (type 2, server_hello).
  expect(scanClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0]))).toEqual({ kind: "done", bad: true });
  // A session id length that runs past the message (record 5 + handshake 4 + version 2 + random 32).
  const broken = Buffer.from(hello);
  broken[5 + 4 + 2 + 32] = 255;
  expect(scanClientHello(broken)).toEqual({ kind: "done", bad: true });
});
