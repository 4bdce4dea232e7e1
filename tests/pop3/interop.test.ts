// POP3 with the other built-ins: a message sent over SMTP (Python's smtplib) comes back
// byte for byte through POP3 (poplib); an IMAP session (imaplib) sees POP3 deletions as
// expunges.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { inboxUids, makeMessage, poplib } from "../helpers/pop3.ts";

let server: TestServer;
const ALICE = "alice@example.test";

beforeAll(async () => {
  server = await startTestServer({ users: [{ address: ALICE, password: "alice-pw" }], config: { pop3: { authFailureDelayMs: 0 } } });
});
afterAll(async () => {
  await server?.cleanup();
});

async function python(code: string, ...args: string[]): Promise<string> {
  const proc = Bun.spawn(["python3", "-c", code, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, rc] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (rc !== 0) throw new Error(`python exited ${rc}: ${err}`);
  return out;
}

const SMTP_SEND = `
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as s:
    s.sendmail("bob@sender.test", [sys.argv[2]], open(sys.argv[3], "rb").read())
`;

// Selects INBOX; NOOPs once POP3 has sent DELE (no expunge yet), then again after its QUIT.
const IMAP_WATCH = `
import imaplib, os, sys, time
def wait(path):
    deadline = time.time() + 20
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.01)
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
typ, data = m.select("INBOX")
print("EXISTS", data[0].decode())
for step in ("deled", "quit"):
    wait(sys.argv[4] + "." + step)
    m.noop()
    print("EXPUNGE", ",".join(x.decode() for x in (m.untagged_responses.pop("EXPUNGE", None) or [])))
    open(sys.argv[4] + "." + step + ".seen", "w").close()
typ, data = m.select("INBOX")
print("EXISTS", data[0].decode())
m.logout()
`;

describe("POP3 with SMTP and IMAP", () => {
  test("a message received over SMTP is retrieved by POP3 byte for byte", async () => {
    // From an outside domain: unauthenticated mail on port 25 claiming one of ours is refused.
    const sent = makeMessage("via smtp", 8000).replace("<bob@example.test>", "<bob@sender.test>");
    const file = `${server.dataDir}/sent.eml`;
    await Bun.write(file, sent);
    await python(SMTP_SEND, String(server.port("smtp")), ALICE, file);
    for (let i = 0; i < 200 && (await inboxUids(server, ALICE)).length === 0; i++) await Bun.sleep(25);
    const r = await poplib(server, [["open", "plain"], ["user", ALICE], ["pass_", "alice-pw"], ["list"], ["retr", 1], ["quit"]]);
    const [resp, lines, octets] = (r[4] as { ok: [string, string[], number] }).ok;
    const got = lines.map((l) => `${l}\r\n`).join("");
    // The server prepends its trace headers (Received …); the rest is what was sent.
    expect(got.endsWith(sent)).toBe(true);
    const prefix = got.slice(0, got.length - sent.length);
    for (const line of prefix.split("\r\n").slice(0, -1)) expect(line).toMatch(/^([\w-]+:|[ \t])/);
    expect(resp).toBe(`+OK ${got.length} octets`);
    expect(octets).toBe(got.length);
    expect((r[3] as { ok: [string, string[]] }).ok[1]).toEqual([`1 ${got.length}`]);
  });

  test("an IMAP session sees POP3 deletions as expunges, only after QUIT", async () => {
    const before = await inboxUids(server, ALICE);
    expect(before.length).toBeGreaterThan(0);
    const sig = `${server.dataDir}/sig`;
    const proc = Bun.spawn(["python3", "-c", IMAP_WATCH, String(server.port("imap")), ALICE, "alice-pw", sig], { stdout: "pipe", stderr: "pipe" });
    const r = await poplib(server, [
      ["open", "plain"],
      ["user", ALICE],
      ["pass_", "alice-pw"],
      ["dele", 1],
      ["touch", `${sig}.deled`],
      ["waitfile", `${sig}.deled.seen`],
      ["quit"],
      ["touch", `${sig}.quit`],
    ]);
    expect(r[5]).toEqual({ ok: true });
    expect(r[6]).toEqual({ ok: expect.stringMatching(/^\+OK/) });
    const [text, err, rc] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text(), await proc.exited];
    expect(rc, err).toBe(0);
    expect(text).toBe(`EXISTS ${before.length}\nEXPUNGE \nEXPUNGE 1\nEXISTS ${before.length - 1}\n`);
  });
});
