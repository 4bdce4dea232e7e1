// Python's imaplib against our server, command by command, including error cases.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestServer } from "../helpers/server.ts";
import { python, startImap, USERS } from "../helpers/imap.ts";

let srv: TestServer;
let port = 0;
beforeAll(async () => {
  srv = await startImap();
  port = srv.port("imap");
});
afterAll(async () => {
  await srv.cleanup();
});

/** Runs a python body with M (logged-in imaplib client) and r(key, value) recording results. */
async function py(body: string, login = true): Promise<Record<string, any>> {
  const script = `
import imaplib, json, sys
port = int(sys.argv[1])
out = {}
def dec(x):
    if isinstance(x, bytes): return x.decode('utf-8', 'replace')
    if isinstance(x, (list, tuple)): return [dec(y) for y in x]
    return x
def r(k, v): out[k] = dec(v)
def err(k, f):
    try:
        out[k] = dec(f())
    except imaplib.IMAP4.error as e:
        out[k] = ['ERR', str(e)]
M = imaplib.IMAP4('127.0.0.1', port)
${login ? `M.login(${JSON.stringify(USERS[0]!.address)}, ${JSON.stringify(USERS[0]!.password)})` : ""}
${body}
try:
    M.logout()
except Exception:
    pass
print(json.dumps(out))
`;
  return JSON.parse(await python(script, [String(port)]));
}

const MSG = [
  "From: Bob Example <bob@example.test>",
  "To: Alice <alice@example.test>",
  "Subject: =?utf-8?q?caf=C3=A9?= meeting",
  "Date: Mon, 7 Feb 1994 21:52:25 -0800",
  "Message-ID: <m1@example.test>",
  "X-Tag: blue",
  "",
  "Hello Alice, the quarterly numbers are in.",
  "",
].join("\r\n");

describe("imaplib", () => {
  test("capabilities, login failures and success, logout", async () => {
    const out = await py(
      `
r('caps', list(M.capabilities))
err('badpw', lambda: M.login('alice@example.test', 'wrong'))
err('good', lambda: M.login(${JSON.stringify(USERS[0]!.address)}, ${JSON.stringify(USERS[0]!.password)}))
r('state', M.state)
r('noop', M.noop())
r('ns', M.namespace())
`,
      false,
    );
    expect(out.caps).toContain("IMAP4REV1");
    expect(out.caps).toContain("AUTH=PLAIN");
    expect(out.caps).toContain("IDLE");
    expect(out.badpw[0]).toBe("ERR");
    expect(out.badpw[1]).toContain("AUTHENTICATIONFAILED");
    expect(out.good[0]).toBe("OK");
    expect(out.state).toBe("AUTH");
    expect(out.noop[0]).toBe("OK");
    expect(out.ns).toEqual(["OK", ['(("" "/")) NIL NIL']]);
  });

  test("AUTHENTICATE PLAIN", async () => {
    const out = await py(
      `
import base64
err('auth', lambda: M.authenticate('PLAIN', lambda _: b'\\0' + ${JSON.stringify(USERS[1]!.address)}.encode() + b'\\0' + ${JSON.stringify(USERS[1]!.password)}.encode()))
r('state', M.state)
`,
      false,
    );
    expect(out.auth[0]).toBe("OK");
    expect(out.state).toBe("AUTH");
  });

  test("mailboxes: list, create, rename, delete, subscribe, status", async () => {
    const out = await py(`
r('list0', M.list())
r('create', M.create('Projects/2026'))
r('dup', M.create('Projects/2026'))
r('listP', M.list('""', 'Projects*'))
r('listPct', M.list('""', '%'))
r('rename', M.rename('Projects/2026', 'Projects/Done'))
r('listAfter', M.list('Projects/', '*'))
r('sub', M.subscribe('Projects/Done'))
r('unsub', M.unsubscribe('Sent'))
r('lsub', M.lsub())
r('status', M.status('INBOX', '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE HIGHESTMODSEQ)'))
r('statusMissing', M.status('Nope', '(MESSAGES)'))
r('delParent', M.delete('Projects'))
r('del', M.delete('Projects/Done'))
r('delInbox', M.delete('INBOX'))
r('delMissing', M.delete('Projects/Done'))
r('utf7', M.create('&ZeVnLIqe-'))
r('listUtf7', M.list('""', '&ZeVnLIqe-'))
r('special', M._simple_command('CREATE', 'Old', '(USE (\\\\Archive))'))
r('listSpecial', M.list('""', 'Old'))
`);
    expect(out.list0[0]).toBe("OK");
    const names = (out.list0[1] as string[]).join("\n");
    expect(names).toContain('(\\HasNoChildren) "/" INBOX');
    expect(names).toMatch(/\\Sent \\HasNoChildren\) "\/" Sent/);
    expect(out.create[0]).toBe("OK");
    expect(out.dup[0]).toBe("NO");
    expect(out.listP[1]).toEqual(['(\\HasChildren) "/" Projects', '(\\HasNoChildren) "/" Projects/2026']);
    expect((out.listPct[1] as string[]).some((l) => l.endsWith('"/" Projects/2026'))).toBe(false);
    expect(out.rename[0]).toBe("OK");
    expect(out.listAfter[1]).toEqual(['(\\HasNoChildren) "/" Projects/Done']);
    expect(out.lsub[1]).toContain('() "/" Projects/Done');
    expect((out.lsub[1] as string[]).some((l) => l.endsWith(" Sent"))).toBe(false);
    expect(out.status[0]).toBe("OK");
    expect(out.status[1][0]).toMatch(/^INBOX \(MESSAGES \d+ UIDNEXT \d+ UIDVALIDITY \d+ UNSEEN \d+ SIZE \d+ HIGHESTMODSEQ \d+\)$/);
    expect(out.statusMissing[0]).toBe("NO");
    expect(out.delParent[0]).toBe("NO");
    expect(out.del[0]).toBe("OK");
    expect(out.delInbox[0]).toBe("NO");
    expect(out.delMissing[0]).toBe("NO");
    expect(out.utf7[0]).toBe("OK");
    expect(out.listUtf7[1]).toEqual(['(\\HasNoChildren) "/" &ZeVnLIqe-']);
    expect(out.special[0]).toBe("OK");
    expect(out.listSpecial[1]).toEqual(['(\\Archive \\HasNoChildren) "/" Old']);
  });

  test("append, select, fetch, search, store, copy, move, expunge", async () => {
    const out = await py(`
msg = ${JSON.stringify(MSG)}.encode()
r('create', M.create('Work'))
r('append', M.append('Work', '(\\\\Flagged $Important)', imaplib.Time2Internaldate(1700000000), msg))
r('append2', M.append('Work', None, None, msg.replace(b'quarterly', b'yearly').replace(b'm1@', b'm2@')))
r('appendMissing', M.append('NoSuchBox', None, None, msg))
r('select', M.select('Work'))
r('untagged', {k: dec(v) for k, v in M.untagged_responses.items()})
r('flags', M.fetch('1:*', '(FLAGS UID)'))
r('envelope', M.fetch('1', '(ENVELOPE RFC822.SIZE INTERNALDATE)'))
r('bs', M.fetch('1', '(BODYSTRUCTURE)'))
r('peek', M.fetch('2', '(BODY.PEEK[HEADER.FIELDS (SUBJECT X-TAG)])'))
r('flagsAfterPeek', M.fetch('2', '(FLAGS)'))
r('body', M.fetch('2', '(BODY[TEXT])'))
r('flagsAfterBody', M.fetch('2', '(FLAGS)'))
r('partial', M.fetch('1', '(BODY.PEEK[]<0.10>)'))
r('rfc822', M.fetch('1', '(RFC822.HEADER)'))
r('s_all', M.search(None, 'ALL'))
r('s_flagged', M.search(None, 'FLAGGED'))
r('s_unseen', M.search(None, 'UNSEEN'))
r('s_keyword', M.search(None, 'KEYWORD', '$Important'))
r('s_subject', M.search(None, 'SUBJECT', 'café'.encode()) if False else M.search('UTF-8', 'SUBJECT', 'meeting'))
r('s_from', M.search(None, 'FROM', 'bob@example'))
r('s_body', M.search(None, 'BODY', 'yearly'))
r('s_text', M.search(None, 'TEXT', 'quarterly'))
r('s_header', M.search(None, 'HEADER', 'X-Tag', 'blue'))
r('s_or', M.search(None, 'OR', 'BODY', 'yearly', 'FLAGGED'))
r('s_not', M.search(None, 'NOT', 'FLAGGED'))
r('s_larger', M.search(None, 'LARGER', '10', 'SMALLER', '100000'))
r('s_before', M.search(None, 'BEFORE', '1-Jan-2024'))
r('s_senton', M.search(None, 'SENTON', '7-Feb-1994'))
r('s_uid', M.uid('SEARCH', None, 'UID', '1:*'))
r('s_seq', M.search(None, '2'))
r('s_charset', M.search('KOI8-R', 'ALL'))
r('store', M.store('1', '+FLAGS', '(\\\\Deleted)'))
r('storeSilent', M.store('2', '+FLAGS.SILENT', '(\\\\Answered)'))
r('flagsNow', M.fetch('1:2', '(FLAGS)'))
r('storeMinus', M.store('1', '-FLAGS', '(\\\\Deleted)'))
r('copy', M.copy('1', 'INBOX'))
r('copyMissing', M.copy('1', 'Nope'))
r('create2', M.create('Archive2'))
r('move', M.uid('MOVE', '2', 'Archive2'))
r('afterMove', M.fetch('1:*', '(UID)'))
r('st', M.store('1', '+FLAGS', '\\\\Deleted'))
r('expunge', M.expunge())
r('close', M.close())
r('statusArchive', M.status('Archive2', '(MESSAGES)'))
`);
    expect(out.append[0]).toBe("OK");
    expect(out.append[1][0]).toMatch(/^\[APPENDUID \d+ 1\] /);
    expect(out.appendMissing[0]).toBe("NO");
    expect(out.select).toEqual(["OK", ["2"]]);
    expect(out.untagged.FLAGS[0]).toContain("$Important");
    expect(out.untagged.UIDVALIDITY[0]).toMatch(/^\d+$/);
    expect(out.untagged.UIDNEXT).toEqual(["3"]);
    // \Recent: the first session to see them (RFC 3501 §2.3.2).
    expect(out.flags[1]).toEqual(["1 (UID 1 FLAGS (\\Flagged $Important \\Recent))", "2 (UID 2 FLAGS (\\Recent))"]);
    const env = out.envelope[1][0] as string;
    expect(env).toContain('(("Bob Example" NIL "bob" "example.test"))');
    expect(env).toContain('"=?utf-8?q?caf=C3=A9?= meeting"');
    expect(env).toContain('"<m1@example.test>"');
    expect(env).toContain('INTERNALDATE "14-Nov-2023 22:13:20 +0000"');
    expect(env).toContain(`RFC822.SIZE ${Buffer.byteLength(MSG)}`);
    expect(out.bs[1][0]).toMatch(/BODYSTRUCTURE \("TEXT" "PLAIN" .* "7BIT" \d+ \d+ /);
    expect(out.peek[1][0][1]).toBe("Subject: =?utf-8?q?caf=C3=A9?= meeting\r\nX-Tag: blue\r\n\r\n");
    expect(out.flagsAfterPeek[1]).toEqual(["2 (FLAGS (\\Recent))"]);
    expect(out.body[1][0][1]).toBe("Hello Alice, the yearly numbers are in.\r\n");
    expect(out.flagsAfterBody[1]).toEqual(["2 (FLAGS (\\Seen \\Recent))"]);
    expect(out.partial[1][0][0]).toContain("BODY[]<0> {10}");
    expect(out.partial[1][0][1]).toBe("From: Bob ");
    expect(out.rfc822[1][0][1]).toContain("X-Tag: blue\r\n\r\n");
    expect(out.s_all[1]).toEqual(["1 2"]);
    expect(out.s_flagged[1]).toEqual(["1"]);
    expect(out.s_unseen[1]).toEqual(["1"]);
    expect(out.s_keyword[1]).toEqual(["1"]);
    expect(out.s_subject[1]).toEqual(["1 2"]);
    expect(out.s_from[1]).toEqual(["1 2"]);
    expect(out.s_body[1]).toEqual(["2"]);
    expect(out.s_text[1]).toEqual(["1"]);
    expect(out.s_header[1]).toEqual(["1 2"]);
    expect(out.s_or[1]).toEqual(["1 2"]);
    expect(out.s_not[1]).toEqual(["2"]);
    expect(out.s_larger[1]).toEqual(["1 2"]);
    expect(out.s_before[1]).toEqual(["1"]);
    expect(out.s_senton[1]).toEqual(["1 2"]);
    expect(out.s_uid[1]).toEqual(["1 2"]);
    expect(out.s_seq[1]).toEqual(["2"]);
    expect(out.s_charset[0]).toBe("NO");
    expect(out.s_charset[1][0]).toContain("BADCHARSET");
    expect(out.store[1]).toEqual(["1 (UID 1 FLAGS (\\Deleted \\Flagged $Important \\Recent))"]);
    expect(out.storeSilent[1]).toEqual([null]);
    expect(out.flagsNow[1]).toEqual(["1 (FLAGS (\\Deleted \\Flagged $Important \\Recent))", "2 (FLAGS (\\Answered \\Seen \\Recent))"]);
    expect(out.copy[0]).toBe("OK");
    expect(out.copy[1][0]).toMatch(/^\[COPYUID \d+ 1 \d+\]/);
    expect(out.copyMissing[0]).toBe("NO");
    expect(out.move[0]).toBe("OK");
    expect(out.afterMove[1]).toEqual(["1 (UID 1)"]);
    // imaplib keeps untagged EXPUNGEs until asked: "2" is from the UID MOVE, "1" from EXPUNGE.
    expect(out.expunge[1]).toEqual(["2", "1"]);
    expect(out.close[0]).toBe("OK");
    expect(out.statusArchive[1]).toEqual(["Archive2 (MESSAGES 1)"]);
  });

  test("errors: unknown command, wrong state, bad syntax, bad sequence numbers", async () => {
    const out = await py(`
imaplib.Commands['FROBNICATE'] = ('NONAUTH', 'AUTH', 'SELECTED')
err('unknown', lambda: M._simple_command('FROBNICATE'))
err('fetchNoSelect', lambda: M._simple_command('FETCH', '1', 'FLAGS'))
r('selMissing', M.select('DoesNotExist'))
r('state', M.state)
r('sel', M.select('INBOX'))
err('badSeq', lambda: M.fetch('999', '(FLAGS)'))
err('badItem', lambda: M.fetch('1:*', '(FROB)'))
err('badSearch', lambda: M.search(None, 'FROB'))
err('badStore', lambda: M.store('1:*', 'XFLAGS', '(\\\\Seen)'))
err('badDate', lambda: M.search(None, 'SINCE', '31-Foo-2020'))
r('examine', M.select('INBOX', readonly=True))
err('storeRO', lambda: M.store('1:*', '+FLAGS', '(\\\\Seen)'))
r('noop', M.noop())
`);
    expect(out.unknown[0]).toBe("ERR");
    expect(out.unknown[1]).toContain("Unknown command");
    expect(out.fetchNoSelect[0]).toBe("ERR");
    expect(out.selMissing[0]).toBe("NO");
    expect(out.sel[0]).toBe("OK");
    expect(out.badSeq[0]).toBe("ERR");
    expect(out.badItem[0]).toBe("ERR");
    expect(out.badSearch[0]).toBe("ERR");
    expect(out.badStore[0]).toBe("ERR");
    expect(out.badDate[0]).toBe("ERR");
    expect(out.examine[0]).toBe("OK");
    expect(out.storeRO[0]).toBe("NO");
    expect(out.noop[0]).toBe("OK");
  });

  test("a user sees only their own mailboxes", async () => {
    const out = await py(`
r('create', M.create('AliceSecret'))
M2 = imaplib.IMAP4('127.0.0.1', port)
M2.login(${JSON.stringify(USERS[1]!.address)}, ${JSON.stringify(USERS[1]!.password)})
r('bobList', M2.list())
r('bobSelect', M2.select('AliceSecret'))
r('bobStatus', M2.status('AliceSecret', '(MESSAGES)'))
M2.logout()
`);
    expect(out.create[0]).toBe("OK");
    expect((out.bobList[1] as string[]).some((l) => l.includes("AliceSecret"))).toBe(false);
    expect(out.bobSelect[0]).toBe("NO");
    expect(out.bobStatus[0]).toBe("NO");
  });
});
