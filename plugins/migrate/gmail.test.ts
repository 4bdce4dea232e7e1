// Gmail's virtual folders, played by Debian's Dovecot with its virtual plugin: "[Gmail]/All
// Mail" (\All) holds every message, including one that is in no listed folder (Gmail's
// archived mail); "[Gmail]/Starred" (\Flagged) the flagged ones. A migration copies each
// message once: the real folders as they are, the archived one into Archive, Starred not
// at all (the \Flagged flag comes along).
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImapFlow } from "imapflow";
import { withDovecot } from "../../scripts/bench/lib/dovecot.ts";
import { cli, dumpAccount, makeDataDir } from "./test-helpers.ts";

const HAVE = Boolean(Bun.which("/usr/sbin/dovecot"));
const vdir = mkdtempSync(join(tmpdir(), "kotakpos-migrate-virtual-"));
afterAll(() => rmSync(vdir, { recursive: true, force: true }));

const msg = (s: string) => `From: a@gmail.test\r\nSubject: ${s}\r\nMessage-ID: <${s}@gmail.test>\r\n\r\nbody of ${s}\r\n`;

test.skipIf(!HAVE)(
  "[Gmail]/All Mail and Starred: every message once, archived mail into Archive",
  async () => {
    chmodSync(vdir, 0o755);
    for (const [name, rule] of [
      ["All Mail", "all"],
      ["Starred", "flagged"],
    ]) {
      mkdirSync(join(vdir, name), { recursive: true });
      writeFileSync(join(vdir, name, "dovecot-virtual"), `*\n-[Gmail]/*\nArchived/*\n  ${rule}\n`);
    }
    Bun.spawnSync(["chmod", "-R", "a+rwX", vdir]);
    const data = await makeDataDir(["g@example.test"]);
    try {
      const r = await withDovecot(
        {
          protocol: "imap",
          users: ["u"],
          password: "p",
          messages: () => [
            ["1.M1P1.x:2,S", msg("one")],
            ["2.M2P1.x:2,FS", msg("two-starred")],
          ],
          extraConf: `mail_plugins = $mail_plugins virtual
namespace inbox {
  inbox = yes
  separator = /
}
# Gmail's archived mail: in no listed folder, only in All Mail.
namespace hidden {
  prefix = Archived/
  separator = /
  list = no
  hidden = yes
  location = maildir:~/Archived
}
namespace virtual {
  prefix = [Gmail]/
  separator = /
  location = virtual:${vdir}
  mailbox "All Mail" {
    special_use = \\All
  }
  mailbox Starred {
    special_use = \\Flagged
  }
}
`,
        },
        async (port) => {
          const c = new ImapFlow({ host: "127.0.0.1", port, secure: false, auth: { user: "u", pass: "p" }, logger: false });
          await c.connect();
          await c.mailboxCreate("Work");
          await c.append("Work", msg("work"), ["\\Seen"]);
          await c.mailboxCreate("Archived/Box");
          await c.append("Archived/Box", msg("archived"), ["\\Seen"]);
          await c.logout();
          const url = `imap://u@127.0.0.1:${port}`;
          return [await cli(data.dir, ["migrate", "g@example.test", url, "--password-stdin"], "p\n"), await cli(data.dir, ["migrate", "g@example.test", url, "--password-stdin"], "p\n")];
        },
      );
      if (!Array.isArray(r)) throw new Error(JSON.stringify(r));
      const [first, second] = r;
      expect(first!.err).not.toContain("kotakpos:");
      // 3 real messages + All Mail's 4 (3 of them already copied from their folders).
      expect(first!.out).toContain("found 7 = imported 4 + skipped 0 + already there 3");
      expect(second!.out).toContain("found 7 = imported 0 + skipped 0 + already there 7");
      const d = await dumpAccount(data.dir, "g@example.test", { skipEmpty: true });
      const subjects = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.map((m) => [/Subject: (.*)\r/.exec(m.raw)![1], m.flags.join(" ")])]));
      expect(subjects).toEqual({
        INBOX: [
          ["one", "\\Seen"],
          ["two-starred", "\\Flagged \\Seen"],
        ],
        Work: [["work", "\\Seen"]],
        Archive: [["archived", "\\Seen"]],
      });
    } finally {
      data.cleanup();
    }
  },
  60_000,
);
