// Property test: mutated messages never throw and every part's offsets stay ordered and
// inside its parent (what IMAP section slicing relies on).
import { test, expect } from "bun:test";
import { analyze } from "./analyze.ts";
import type { MimePart } from "./types.ts";

const base = new TextEncoder().encode(
  [
    "From: A <a@x.test>",
    "Subject: =?utf-8?q?f=C3=BCzz?=",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    'Content-Type: multipart/alternative; boundary="b2"',
    "",
    "--b2",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "caf=C3=A9 =",
    "soft",
    "--b2",
    "Content-Type: text/html",
    "",
    "<p>x</p>",
    "--b2--",
    "--b1",
    "Content-Type: message/rfc822",
    "",
    "Subject: inner",
    "To: g: a@b, c@d;",
    "",
    "inner body",
    "--b1",
    "Content-Type: application/octet-stream; name*0*=utf-8''a%20b; name*1=c",
    "Content-Transfer-Encoding: base64",
    "",
    "AAECAwQ=",
    "--b1--",
    "",
  ].join("\r\n"),
);

function check(p: MimePart, lo: number, hi: number, size: number): void {
  expect(p.headerStart).toBeGreaterThanOrEqual(lo);
  expect(p.bodyStart).toBeGreaterThanOrEqual(p.headerStart);
  expect(p.end).toBeGreaterThanOrEqual(p.bodyStart);
  expect(p.end).toBeLessThanOrEqual(Math.min(hi, size));
  for (const c of p.parts ?? []) check(c, p.bodyStart, p.end, size);
  if (p.message) check(p.message.body, p.bodyStart, p.end, size);
}

test("random mutations: no throw, offsets nested and in range", () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const noise = ["\r\n", "\n", "--b1", "--b2--", ":", ";", '"', "=?", "(", "\r", "\t", "--", "\r\n\r\n", "\x80\xff"];
  for (let i = 0; i < 400; i++) {
    const bytes = Array.from(base);
    for (let m = 0, k = 1 + rnd(8); m < k; m++) {
      const at = rnd(bytes.length + 1);
      const op = rnd(3);
      if (op === 0) bytes.splice(at, 1 + rnd(20));
      else if (op === 1) bytes.splice(at, 0, ...Array.from(new TextEncoder().encode(noise[rnd(noise.length)]!)));
      else bytes.splice(at, 0, ...bytes.slice(rnd(bytes.length), rnd(bytes.length)));
    }
    const msg = new Uint8Array(bytes);
    const prefix = rnd(2) ? 0 : 37;
    const a = analyze(msg, prefix);
    check(a.structure, 0, msg.length + prefix, msg.length + prefix);
    expect(typeof a.preview).toBe("string");
    expect(a.preview.length).toBeLessThanOrEqual(200);
  }
});
