import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { domainRecords } from "./records.ts";
import { mtaStsId, mtaStsPolicy, spkiSha256 } from "./transport.ts";

test("TLSA 3 1 1 data is the SHA-256 of the key's SubjectPublicKeyInfo, as openssl computes it", () => {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-tlsa-"));
  try {
    const sh = (cmd: string) => Bun.spawnSync(["sh", "-c", cmd], { cwd: dir }).stdout.toString().trim();
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem -subj /CN=mx.example.test -days 1 2>/dev/null");
    const want = sh("openssl x509 -in c.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r | cut -d' ' -f1");
    expect(want).toMatch(/^[0-9a-f]{64}$/);
    expect(spkiSha256(readFileSync(join(dir, "c.pem"), "utf8"))).toBe(want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the MTA-STS policy and its id; records for MTA-STS, TLS-RPT and TLSA", () => {
  const p = mtaStsPolicy("testing", "MX.example.test");
  expect(p).toBe("version: STSv1\r\nmode: testing\r\nmx: mx.example.test\r\nmax_age: 604800\r\n");
  expect(mtaStsId(p)).toMatch(/^[0-9a-f]{20}$/);
  expect(mtaStsId(mtaStsPolicy("enforce", "mx.example.test"))).not.toBe(mtaStsId(p));
  const recs = domainRecords({
    domain: "example.test",
    hostname: "mx.example.test",
    keys: [],
    ipv4: [],
    ipv6: [],
    dmarcPolicy: "none",
    dmarcRua: "",
    mtaStsId: "abc123",
    tlsRptAddress: "tls@example.test",
    tlsaSpki: "ff".repeat(32),
  });
  const by = (n: string) => recs.find((r) => r.name === n)!;
  expect(by("mta-sts.example.test").value).toBe("mx.example.test.");
  expect(by("_mta-sts.example.test").value).toBe('"v=STSv1; id=abc123"');
  expect(by("_smtp._tls.example.test").value).toBe('"v=TLSRPTv1; rua=mailto:tls@example.test"');
  expect(by("_25._tcp.mx.example.test")).toMatchObject({ type: "TLSA", value: `3 1 1 ${"ff".repeat(32)}` });
});
