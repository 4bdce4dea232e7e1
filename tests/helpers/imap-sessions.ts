// Per-command IMAP tests with two sessions (mox's habit): one python imaplib session acts,
// the other (and a third on the target mailbox) checks what RFC 9051 says it sees.
import { startImap, python, USERS } from "./imap.ts";
import type { TestServer } from "./server.ts";

export { startImap };
export type { TestServer };

/** Runs `body` (python, indented 0) with `a`, `b`, `c` = imaplib sessions of alice (TLS off,
 *  loopback plaintext allowed in tests) and `msg(i)` making a small message; prints JSON. */
export async function twoSessions(server: TestServer, body: string): Promise<unknown> {
  const script = `
import imaplib, json, sys
port = int(sys.argv[1]); user, pw = sys.argv[2], sys.argv[3]
def login():
    s = imaplib.IMAP4("127.0.0.1", port)
    s.login(user, pw)
    return s
a, b, c = login(), login(), login()
def msg(i):
    return ("From: x@example.test\\r\\nSubject: m%d\\r\\n\\r\\nbody %d\\r\\n" % (i, i)).encode()
def untagged(s, name):
    v = s.untagged_responses.pop(name, [])
    return [x.decode() if isinstance(x, bytes) else str(x) for x in v]
out = {}
${body}
print(json.dumps(out))
`;
  const user = USERS[0]!;
  return JSON.parse(await python(script, [String(server.port("imap")), user.address, user.password]));
}

/** Does an IMAP login (imapflow, STARTTLS off on loopback) with this password succeed? */
export async function imapLoginWorks(server: Pick<TestServer, "port">, user: string, pass: string): Promise<boolean> {
  const { ImapFlow } = await import("imapflow");
  const c = new ImapFlow({
    host: "127.0.0.1",
    port: server.port("imap"),
    secure: false,
    tls: { rejectUnauthorized: false, servername: "mx.example.test" } as never,
    auth: { user, pass },
    logger: false,
  });
  return c.connect().then(
    async () => {
      await c.logout();
      return true;
    },
    () => false,
  );
}
