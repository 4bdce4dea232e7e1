// RFC 5464 METADATA: GETMETADATA (MAXSIZE, DEPTH options, §4.2) and SETMETADATA (§4.3) on
// mailboxes and the server (mailbox name ""); METADATA-SERVER too.
import { AUTHED, bad, no, ok, type CommandSpec } from "../command.ts";
import { astr, str } from "../format.ts";
import { MAX_VALUE, SERVER, readEntries, validEntry, writeEntries, type Entry } from "../metadata.ts";
import { canonicalName, fromWire } from "../names.ts";
import { ParseError } from "../parser.ts";
import type { Session } from "../session.ts";

/** The mailbox id for a name ("" = server), or null. */
async function target(s: Session, raw: string): Promise<{ id: number; wire: string } | null> {
  if (raw === "") return { id: SERVER, wire: '""' };
  const mb = await s.core.store.getMailbox(s.accountId, canonicalName(fromWire(s, raw)));
  return mb ? { id: mb.id, wire: astr(s.wireName(mb.name), s.utf8) } : null;
}

export const getmetadata: CommandSpec = {
  name: "GETMETADATA",
  states: AUTHED,
  async run(s, c) {
    const a = c.args;
    let maxSize = Infinity;
    let depth = 0;
    if (a.isList()) {
      const l = a.list();
      while (!l.done()) {
        const o = l.atom().toUpperCase();
        if (o === "MAXSIZE") maxSize = l.number();
        else if (o === "DEPTH") {
          const d = l.atom().toLowerCase();
          if (d !== "0" && d !== "1" && d !== "infinity") throw new ParseError("DEPTH is 0, 1 or infinity");
          depth = d === "infinity" ? Infinity : Number(d);
        } else throw new ParseError(`Unknown GETMETADATA option ${o}`);
      }
    }
    const mbName = a.astring();
    const wanted: string[] = [];
    if (a.isList()) {
      const l = a.list();
      while (!l.done()) wanted.push(l.astring());
    } else wanted.push(a.astring());
    a.end();
    for (const w of wanted) if (!validEntry(w)) return bad(`Invalid entry name ${w.slice(0, 60)}`);
    const t = await target(s, mbName);
    if (!t) return no("No such mailbox", "NONEXISTENT");
    const stored = await readEntries(s.core.db, s.accountId, t.id);
    if (t.id === SERVER) stored.push({ entry: "/shared/admin", value: `mailto:postmaster@${s.opts.hostname}` });
    const out: Entry[] = [];
    let longest = 0;
    for (const w of wanted) {
      const base = w.toLowerCase();
      for (const e of stored) {
        const name = e.entry;
        const rel = name === base ? 0 : name.startsWith(base + "/") ? name.slice(base.length + 1).split("/").length : -1;
        if (rel < 0 || rel > depth || out.some((x) => x.entry === name)) continue;
        const size = Buffer.byteLength(e.value);
        if (size > maxSize) longest = Math.max(longest, size);
        else out.push(e);
      }
    }
    // §4.2: an entry asked for by name and not set is reported as NIL.
    const items = out.map((e) => `${e.entry} ${str(e.value, true)}`);
    for (const w of wanted) if (!stored.some((e) => e.entry === w.toLowerCase())) items.push(`${w.toLowerCase()} NIL`);
    if (items.length) s.send(`* METADATA ${t.wire} (${items.join(" ")})`);
    return ok("GETMETADATA completed", longest ? `METADATA LONGENTRIES ${longest}` : undefined);
  },
};

export const setmetadata: CommandSpec = {
  name: "SETMETADATA",
  states: AUTHED,
  async run(s, c) {
    const a = c.args;
    const mbName = a.astring();
    const l = a.list();
    a.end();
    const changes: { entry: string; value: string | null }[] = [];
    while (!l.done()) {
      const entry = l.astring();
      if (!validEntry(entry)) return bad(`Invalid entry name ${entry.slice(0, 60)}`);
      const value = l.nstring();
      if (value !== null && Buffer.byteLength(value) > MAX_VALUE) return no("Value too large", `METADATA MAXSIZE ${MAX_VALUE}`);
      changes.push({ entry: entry.toLowerCase(), value });
    }
    if (changes.length === 0) return bad("SETMETADATA needs entries");
    const t = await target(s, mbName);
    if (!t) return no("No such mailbox", "NONEXISTENT");
    // Server /shared entries are the administrator's.
    if (t.id === SERVER && changes.some((x) => x.entry.startsWith("/shared"))) return no("Server /shared entries are set by the administrator", "NOPERM");
    if ((await writeEntries(s.core.db, s.accountId, t.id, changes)) === "toomany") return no("Too many entries", "METADATA TOOMANY");
    return ok("SETMETADATA completed");
  },
};
