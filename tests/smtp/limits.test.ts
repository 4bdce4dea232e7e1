// Limits that need their own server settings: the idle timeout, connections per IP, the
// per-IP AUTH failure limiter (421 then close), and the goodbye on shutdown.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { raw, smtpServer, swaks } from "../helpers/smtp.ts";

const ALICE = "alice@example.test";
const PW = "pw-alice";
let s: TestServer;

beforeAll(async () => {
  s = await smtpServer({
    users: [{ address: ALICE, password: PW }],
    config: { smtp: { idleTimeoutSeconds: 1 }, listen: { maxConnectionsPerIp: 3 }, auth: { maxFailuresPerIp: 2 } },
  });
}, 30_000);
afterAll(async () => {
  await s?.cleanup();
});

describe("limits", () => {
  test("an idle session gets 421 4.4.2 and is closed", async () => {
    const c = await raw(s.port("smtp"));
    expect(await c.replies(1)).toEqual(["220 mx.example.test ESMTP kotakpos"]);
    await c.closed;
    expect(c.received).toEndWith("421 4.4.2 Idle timeout, closing connection\r\n");
  });

  test("connections over the per-IP limit are refused with 421", async () => {
    const open = await Promise.all([0, 1, 2].map(() => raw(s.port("smtp"))));
    for (const c of open) await c.replies(1);
    const extra = await raw(s.port("smtp"));
    expect(await extra.replies(1)).toEqual(["421 4.7.0 Too many connections from your address"]);
    await extra.closed;
    for (const c of open) c.end();
    await Promise.all(open.map((c) => c.closed));
  });

  test("AUTH failures per IP: 535 twice, then 421 and close even with the right password", async () => {
    const port = s.port("submission");
    const login = (pw: string) => swaks(port, ["--tls", "--auth", "PLAIN", "--auth-user", ALICE, "--auth-password", pw, "--to", ALICE, "--from", ALICE]);
    expect((await login("wrong")).stdout).toContain("535 5.7.8 Authentication credentials invalid");
    expect((await login("wrong")).stdout).toContain("535 5.7.8 Authentication credentials invalid");
    const r = await login(PW);
    expect(r.stdout).toContain("421 4.7.0 Too many failed logins from your address; try again later");
    expect(r.stdout).not.toContain("235 ");
  });

  test("shutdown says 421 4.3.2 to an open session", async () => {
    const c = await raw(s.port("smtp"));
    await c.replies(1);
    c.send("EHLO c\r\n");
    await c.replies(1);
    await s.stop();
    await c.closed;
    expect(c.received).toEndWith("421 4.3.2 Server shutting down, closing connection\r\n");
  });
});
