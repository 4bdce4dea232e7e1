// The RFC 2136 + TSIG client against Debian's bind9 (named) on loopback; dig reads back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBind, type TestBind } from "../../tests/helpers/bind.ts";
import { updateTxt, type UpdateTarget } from "./rfc2136.ts";

let bind: TestBind;
let target: UpdateTarget;
beforeAll(async () => {
  bind = await startBind("example.test", ["mx IN A 127.0.0.1"]);
  target = { server: bind.server, zone: bind.zone, keyName: bind.key.name, algorithm: bind.key.algorithm, secret: bind.key.secret };
});
afterAll(async () => {
  await bind.stop();
});

const dig = (name: string) =>
  Bun.spawnSync(["dig", "@127.0.0.1", "-p", String(bind.port), name, "TXT", "+short"])
    .stdout.toString()
    .trim();

test("adds and deletes a TXT record with a TSIG-signed update", async () => {
  await updateTxt(target, "add", "_acme-challenge.mx.example.test", "token-value-1");
  expect(dig("_acme-challenge.mx.example.test")).toBe('"token-value-1"');
  await updateTxt(target, "delete", "_acme-challenge.mx.example.test", "token-value-1");
  expect(dig("_acme-challenge.mx.example.test")).toBe("");
});

test("a wrong secret is refused with a clear reason", async () => {
  const bad = { ...target, secret: Buffer.alloc(32, 7).toString("base64") };
  await expect(updateTxt(bad, "add", "_acme-challenge.mx.example.test", "x")).rejects.toThrow(/BADSIG|NOTAUTH|refused|TSIG/);
  expect(dig("_acme-challenge.mx.example.test")).toBe("");
});

test("a name outside the zone is refused (NOTZONE)", async () => {
  await expect(updateTxt(target, "add", "_acme-challenge.other.test", "x")).rejects.toThrow(/NOTZONE/);
});
