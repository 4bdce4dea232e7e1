// Shared by the mailauth tests: keys with their DNS records, messages, dkimpy.
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dkimSign, type SigningKey } from "../../plugins/mailauth/dkim-sign.ts";
import { newKeyPair } from "../../plugins/mailauth/keys.ts";
import { dkimRecordText } from "../../plugins/mailauth/records.ts";

export interface TestKey {
  key: SigningKey;
  pem: string;
  publicKey: string;
  /** The TXT record text. */
  record: string;
  /** "<selector>._domainkey.<domain>" */
  name: string;
}

export async function makeKey(domain: string, selector: string, algorithm: SigningKey["algorithm"]): Promise<TestKey> {
  const kp = await newKeyPair(algorithm);
  return {
    key: { domain, selector, algorithm, privateKey: createPrivateKey(kp.privateKey) },
    pem: kp.privateKey,
    publicKey: kp.publicKey,
    record: dkimRecordText({ algorithm, publicKey: kp.publicKey }),
    name: `${selector}._domainkey.${domain}`,
  };
}

export function message(from: string, opts: { subject?: string; body?: string; extra?: string[] } = {}): Buffer {
  const lines = [
    `From: Someone <${from}>`,
    "To: User <user@example.test>",
    `Subject: ${opts.subject ?? "test message"}`,
    "Date: Sun, 22 Nov 2026 03:00:00 +0000",
    `Message-ID: <${Math.random().toString(36).slice(2)}@${from.split("@")[1]}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    ...(opts.extra ?? []),
    "",
    opts.body ?? "Hello,\r\n\r\nthis is a test  with  spaces \r\n",
  ];
  return Buffer.from(lines.join("\r\n"));
}

export function signed(msg: Uint8Array, keys: SigningKey[]): Buffer {
  return Buffer.concat([Buffer.from(dkimSign(msg, keys).join("")), msg]);
}

const DKIMPY = join(import.meta.dir, "dkimpy.py");
export const PYTHON = "/usr/bin/python3";

export async function dkimpy(args: string[], stdin: Uint8Array): Promise<string> {
  const p = Bun.spawn([PYTHON, DKIMPY, ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  p.stdin.write(stdin);
  await p.stdin.end();
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`dkimpy ${args[0]} failed (${code}): ${err}`);
  return out;
}

export function tempDir(): { dir: string; file(name: string, content: string): string; rm(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kotakpos-mailauth-"));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    rm: () => rmSync(dir, { recursive: true, force: true }),
  };
}
