import { expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daneMatch } from "./dane.ts";

test("DANE-EE pins the leaf (full cert or SPKI, exact/SHA-256/SHA-512); DANE-TA pins an issuer in the chain", () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-dane-"));
  try {
    const sh = (cmd: string) => {
      const r = Bun.spawnSync(["sh", "-c", cmd], { cwd: dir, stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -subj /CN=ca -days 1");
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=mx.example.test");
    sh("openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1");
    const der = (f: string) => Buffer.from(new X509Certificate(readFileSync(join(dir, f))).raw);
    const spki = (b: Buffer) => new X509Certificate(b).publicKey.export({ type: "spki", format: "der" }) as Buffer;
    const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest("hex");
    const [leaf, ca] = [der("leaf.pem"), der("ca.pem")];
    const chain = [leaf, ca];
    expect(daneMatch([{ usage: 3, selector: 1, mtype: 1, data: sha("sha256", spki(leaf)) }], chain)).toBe(3);
    expect(daneMatch([{ usage: 3, selector: 0, mtype: 2, data: sha("sha512", leaf) }], chain)).toBe(3);
    expect(daneMatch([{ usage: 3, selector: 0, mtype: 0, data: leaf.toString("hex") }], chain)).toBe(3);
    expect(daneMatch([{ usage: 2, selector: 1, mtype: 1, data: sha("sha256", spki(ca)) }], chain)).toBe(2);
    // The CA's key as DANE-EE, or the leaf's as DANE-TA, does not match; nor do PKIX usages.
    expect(daneMatch([{ usage: 3, selector: 1, mtype: 1, data: sha("sha256", spki(ca)) }], chain)).toBeUndefined();
    expect(daneMatch([{ usage: 2, selector: 1, mtype: 1, data: sha("sha256", spki(leaf)) }], chain)).toBeUndefined();
    expect(daneMatch([{ usage: 1, selector: 1, mtype: 1, data: sha("sha256", spki(leaf)) }], chain)).toBeUndefined();
    expect(daneMatch([{ usage: 3, selector: 1, mtype: 1, data: "00".repeat(32) }], chain)).toBeUndefined();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
