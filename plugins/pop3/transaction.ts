// TRANSACTION-state commands (RFC 1939 §5, §7; RFC 2449 §6.4 UIDL): they read and mark
// the session's snapshot; nothing reaches the store before QUIT (the UPDATE state).
import { parseNumber, type Command } from "./command.ts";
import { dropStat, lookup, undeleteAll, uniqueId, type DropMessage, type Maildrop } from "./maildrop.ts";
import type { MessageParts } from "./reader.ts";
import { retrPieces, stuffAndTerminate, toCrlfParts, topOf } from "./wire.ts";
import type { Logger } from "../../core/types.ts";

export interface TxnIo {
  drop: Maildrop;
  /** The message's stored parts (a read already started for a pipelined RETR, or a new
   *  one); null when it was expunged meanwhile. */
  read(msg: DropMessage): Promise<MessageParts | null>;
  /** RETR's whole answer built in the output itself (status line, message read in place,
   *  terminator): true when done; false when the message needs the general way (not clean,
   *  too large, a failed read: retried and reported there). Synchronous when it can be
   *  (its prefix at hand, no wait for the socket to drain). */
  retrInPlace?(msg: DropMessage): boolean | Promise<boolean>;
  log: Logger;
  /** One response line (CRLF added). */
  send(line: string): void;
  /** A status line and a multi-line body, queued together; a promise when the output is
   *  large enough to be written and the caller should wait for it to drain. */
  sendMulti(status: string, pieces: Buffer[]): Promise<void> | void;
  /** -ERR for a malformed command: counts toward the session's error limit. */
  bad(text: string): void;
  /** -ERR for a well-formed request that cannot be served. */
  no(text: string): void;
}

export const TRANSACTION_COMMANDS = new Set(["STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "RSET", "NOOP"]);

/** Runs one TRANSACTION command; `cmd.keyword` must be in TRANSACTION_COMMANDS. A command
 *  done at once returns nothing (no promise per command: most RETRs). */
export function runTransactionCommand(io: TxnIo, cmd: Command): Promise<void> | void {
  const { drop } = io;
  const argc = cmd.args.length;
  switch (cmd.keyword) {
    case "STAT": {
      if (argc) return io.bad("STAT takes no arguments");
      const s = dropStat(drop);
      return io.send(`+OK ${s.count} ${s.size}`);
    }
    case "NOOP":
      if (argc) return io.bad("NOOP takes no arguments");
      return io.send("+OK");
    case "RSET": {
      if (argc) return io.bad("RSET takes no arguments");
      undeleteAll(drop);
      const s = dropStat(drop);
      return io.send(`+OK maildrop has ${s.count} messages (${s.size} octets)`);
    }
    case "LIST":
    case "UIDL": {
      const show = (n: number, m: DropMessage) => (cmd.keyword === "LIST" ? `${n} ${m.size}` : `${n} ${uniqueId(drop, m)}`);
      if (argc > 1) return io.bad(`${cmd.keyword} takes at most one argument`);
      if (argc === 1) {
        const n = parseNumber(cmd.args[0]);
        const r = lookup(drop, n);
        if (!r.ok) return n === null ? io.bad(r.error) : io.no(r.error);
        return io.send(`+OK ${show(n!, r.msg)}`);
      }
      const lines: string[] = [];
      drop.messages.forEach((m, i) => {
        if (!m.deleted) lines.push(`${show(i + 1, m)}\r\n`);
      });
      const s = dropStat(drop);
      const status = cmd.keyword === "LIST" ? `+OK ${s.count} messages (${s.size} octets)` : "+OK unique-id listing follows";
      return io.sendMulti(status, [Buffer.from(lines.join("") + ".\r\n")]);
    }
    case "DELE": {
      if (argc !== 1) return io.bad("DELE takes one message number");
      const n = parseNumber(cmd.args[0]);
      const r = lookup(drop, n);
      if (!r.ok) return n === null ? io.bad(r.error) : io.no(r.error);
      r.msg.deleted = true;
      return io.send(`+OK message ${n} deleted`);
    }
    case "RETR":
    case "TOP": {
      const want = cmd.keyword === "RETR" ? 1 : 2;
      if (argc !== want) return io.bad(cmd.keyword === "RETR" ? "RETR takes one message number" : "TOP takes a message number and a line count");
      const n = parseNumber(cmd.args[0]);
      const r = lookup(drop, n);
      if (!r.ok) return n === null ? io.bad(r.error) : io.no(r.error);
      const lines = cmd.keyword === "TOP" ? parseNumber(cmd.args[1]) : null;
      if (cmd.keyword === "TOP" && lines === null) return io.bad("Invalid line count");
      const msg = r.msg;
      const done = lines === null && !msg.gone && io.retrInPlace ? io.retrInPlace(msg) : false;
      if (done === true) return;
      if (done === false) return retrOrTop(io, msg, n!, lines);
      return done.then((ok) => (ok ? undefined : retrOrTop(io, msg, n!, lines)));
    }
  }
  io.bad("Unknown command");
}

/** RETR (lines null) or TOP the general way: any message, CRLF-normalized and stuffed. */
async function retrOrTop(io: TxnIo, msg: DropMessage, n: number, lines: number | null): Promise<void> {
  const got = await readMessage(io, msg);
  if (!got) return io.no(`Message ${n} was removed by another session`);
  if (lines === null) {
    const { pieces, size } = retrPieces(got.prefix, got.body);
    checkSize(io, msg, size);
    return io.sendMulti(`+OK ${msg.size} octets`, pieces);
  }
  const parts = toCrlfParts(got.prefix, got.body);
  checkSize(
    io,
    msg,
    parts.reduce((s, p) => s + p.length, 0),
  );
  const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return io.sendMulti("+OK top of message follows", stuffAndTerminate([topOf(whole, lines)]));
}

/** The message's stored parts, or null when it is gone. */
async function readMessage(io: TxnIo, msg: DropMessage): Promise<MessageParts | null> {
  if (msg.gone) return null;
  try {
    return await io.read(msg);
  } catch (err) {
    io.log.warn("pop3 read failed", { uid: msg.uid, err: (err as Error).message });
    return null;
  }
}

/** LIST must announce what RETR sends (RFC 1939 §7); keep the snapshot honest. */
function checkSize(io: TxnIo, msg: DropMessage, size: number): void {
  if (size === msg.size) return;
  io.log.warn("pop3 size differs from store", { uid: msg.uid, stored: msg.size, sent: size });
  msg.size = size;
}
