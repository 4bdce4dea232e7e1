import { afterAll, beforeAll, expect, test } from "bun:test";
import * as OTPAuth from "otpauth";
import type { Db } from "../../core/db/open.ts";
import { tempDb } from "../mailauth/test-db.ts";
import { createSecurity } from "./security.ts";

let t: { db: Db; cleanup(): Promise<void> };
beforeAll(async () => {
  t = await tempDb();
});
afterAll(() => t.cleanup());

test("TOTP (RFC 6238): enrolment needs a right code, a code is accepted once, recovery codes once each", async () => {
  const s = createSecurity(t.db);
  const secret = await s.beginTotp(1);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  expect(await s.enableTotp(1, "12345")).toBeNull();
  const code = totp.generate();
  const codes = await s.enableTotp(1, code);
  expect(codes).toHaveLength(8);
  expect((await s.state(1)).totpEnabled).toBe(true);
  expect(await s.verifyTotp(1, code)).toBe(false); // replay
  expect(await s.verifyTotp(1, totp.generate({ timestamp: Date.now() + 30_000 }))).toBe(true);
  expect(await s.useRecoveryCode(1, codes![0]!)).toBe(true);
  expect(await s.useRecoveryCode(1, codes![0]!)).toBe(false);
  expect((await s.state(1)).recoveryLeft).toBe(7);
});

test("app passwords: shown once, matched by account, last use recorded, revocable", async () => {
  const s = createSecurity(t.db);
  const pw = await s.addAppPassword(2, "Phone");
  expect(await s.matchAppPassword(3, pw)).toBe(false);
  expect(await s.matchAppPassword(2, pw.toUpperCase())).toBe(true);
  const [row] = await s.listAppPasswords(2);
  expect(row!.lastUsed).not.toBeNull();
  expect(await s.revokeAppPassword(3, row!.id)).toBe(false);
  expect(await s.revokeAppPassword(2, row!.id)).toBe(true);
  expect(await s.matchAppPassword(2, pw)).toBe(false);
});
