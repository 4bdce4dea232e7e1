// STLS (RFC 2595) and POP3S with Python's poplib, on a server that refuses passwords
// over plaintext even from loopback.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import pop3 from "../../plugins/pop3/index.ts";
import { deliver, makeMessage, poplib } from "../helpers/pop3.ts";

let server: TestServer;
const ALICE = "alice@example.test";
const msg = makeMessage("over tls", 5000);

beforeAll(async () => {
  server = await startTestServer({
    plugins: [pop3],
    users: [{ address: ALICE, password: "alice-pw" }],
    config: { auth: { allowPlaintextOnLoopback: false }, pop3: { authFailureDelayMs: 0 } },
  });
  await deliver(server, ALICE, msg);
});
afterAll(async () => {
  await server?.cleanup();
});

describe("POP3 over TLS", () => {
  test("plaintext credentials are refused before STLS", async () => {
    const r = await poplib(server, [["open", "plain"], ["capa"], ["user", ALICE], ["auth_plain", ALICE, "alice-pw"], ["quit"]]);
    const capa = (r[1] as { ok: Record<string, string[]> }).ok;
    expect(capa).toHaveProperty("STLS");
    expect(capa).not.toHaveProperty("SASL");
    expect(r[2]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\] Plaintext authentication disallowed/) });
    expect(r[3]).toEqual({ err: expect.stringMatching(/^-ERR \[AUTH\]/) });
  });

  test("STLS, then login and RETR", async () => {
    const r = await poplib(server, [["open", "plain"], ["stls"], ["capa"], ["user", ALICE], ["pass_", "alice-pw"], ["retr", 1], ["quit"]]);
    expect(r[1]).toEqual({ ok: [expect.stringMatching(/^\+OK/), expect.stringMatching(/^TLSv1\.[23]$/)] });
    const capa = (r[2] as { ok: Record<string, string[]> }).ok;
    expect(capa).not.toHaveProperty("STLS");
    expect(capa.SASL).toEqual(["PLAIN"]);
    expect(r[4]).toEqual({ ok: expect.stringMatching(/^\+OK Logged in/) });
    const [, lines, octets] = (r[5] as { ok: [string, string[], number] }).ok;
    expect(lines.map((l) => `${l}\r\n`).join("")).toBe(msg);
    expect(octets).toBe(msg.length);
  });

  test("POP3S (implicit TLS) for a client that connects by IP address (no SNI)", async () => {
    const r = await poplib(server, [["open", "ssl"], ["user", ALICE], ["pass_", "alice-pw"], ["stat"], ["quit"]]);
    expect(r[0]).toEqual({ ok: [expect.stringMatching(/^\+OK/), expect.stringMatching(/^TLSv1\.[23]$/)] });
    expect(r[3]).toEqual({ ok: [1, msg.length] });
  });

  test("POP3S (implicit TLS) with AUTH PLAIN", async () => {
    const r = await poplib(server, [["open", "ssl-sni"], ["capa"], ["raw", "STLS"], ["auth_plain", ALICE, "alice-pw"], ["stat"], ["quit"]]);
    expect(r[0]).toEqual({ ok: [expect.stringMatching(/^\+OK/), expect.stringMatching(/^TLSv1\.[23]$/)] });
    expect((r[1] as { ok: Record<string, string[]> }).ok).not.toHaveProperty("STLS");
    expect(r[2]).toEqual({ err: expect.stringMatching(/^-ERR/) });
    expect(r[3]).toEqual({ ok: expect.stringMatching(/^\+OK Logged in/) });
    expect(r[4]).toEqual({ ok: [1, msg.length] });
  });
});
