// MAIL, RCPT, DATA, RSET (RFC 5321 §4.1.1) on either end of the link: the edge takes the
// home's outbound mail this way, the home takes its inbound mail after ATRN reversed the
// roles (RFC 2645 §4). Each side says what a sender or a recipient may be.
import type { DeliveryTarget } from "../../core/store/types.ts";
import type { Reply } from "../../core/types.ts";
import type { Wire } from "./wire.ts";

export interface Routed {
  address: string;
  local: DeliveryTarget[];
  remote: { address: string; mailFrom?: string }[];
}

export interface TxnHandlers {
  mail(from: string): Promise<Reply | null>;
  rcpt(to: string, from: string): Promise<Routed | Reply>;
  /** Commit the message durably, then answer (250 only after the commit). */
  data(raw: Buffer, mailFrom: string, rcpts: Routed[]): Promise<Reply>;
  maxSize: number;
  maxRecipients: number;
}

export interface Txn {
  mailFrom?: string;
  rcpts: Routed[];
}

export type Send = (r: Reply) => void;

export const replyLine = (r: Reply): string => `${r.code}${r.enhanced ? " " + r.enhanced : ""} ${r.text}\r\n`;

const PATH = /^(FROM|TO):\s*<([^<>\s]*)>(?:\s.*)?$/i;

/** Handles one transaction command; false when `verb` is none of them. */
export async function txnCommand(verb: string, arg: string, t: Txn, wire: Wire, send: Send, h: TxnHandlers): Promise<boolean> {
  switch (verb) {
    case "MAIL": {
      const m = PATH.exec(arg);
      if (!m || m[1]!.toUpperCase() !== "FROM") return (send({ code: 501, enhanced: "5.5.4", text: "Syntax: MAIL FROM:<address>" }), true);
      if (t.mailFrom !== undefined) return (send({ code: 503, enhanced: "5.5.1", text: "Nested MAIL command" }), true);
      const size = /\bSIZE=(\d+)/i.exec(arg);
      if (size && Number(size[1]) > h.maxSize) return (send({ code: 552, enhanced: "5.3.4", text: `Message too big (limit ${h.maxSize} bytes)` }), true);
      const refused = await h.mail(m[2]!);
      if (refused) return (send(refused), true);
      t.mailFrom = m[2]!;
      t.rcpts = [];
      send({ code: 250, enhanced: "2.1.0", text: "Sender OK" });
      return true;
    }
    case "RCPT": {
      const m = PATH.exec(arg);
      if (t.mailFrom === undefined) return (send({ code: 503, enhanced: "5.5.1", text: "MAIL first" }), true);
      if (!m || m[1]!.toUpperCase() !== "TO" || !m[2]!.includes("@")) return (send({ code: 501, enhanced: "5.5.4", text: "Syntax: RCPT TO:<address>" }), true);
      if (t.rcpts.length >= h.maxRecipients) return (send({ code: 452, enhanced: "4.5.3", text: "Too many recipients" }), true);
      const r = await h.rcpt(m[2]!, t.mailFrom);
      if ("code" in r) return (send(r), true);
      t.rcpts.push(r);
      send({ code: 250, enhanced: "2.1.5", text: "Recipient OK" });
      return true;
    }
    case "DATA": {
      if (t.mailFrom === undefined || t.rcpts.length === 0) return (send({ code: 503, enhanced: "5.5.1", text: "MAIL and RCPT first" }), true);
      send({ code: 354, text: "End data with <CR><LF>.<CR><LF>" });
      const d = await wire.data(h.maxSize);
      const mailFrom = t.mailFrom;
      const rcpts = t.rcpts;
      t.mailFrom = undefined;
      t.rcpts = [];
      if (d === null) return true;
      if ("error" in d) {
        send(
          d.error === "too-big"
            ? { code: 552, enhanced: "5.3.4", text: `Message too big (limit ${h.maxSize} bytes)` }
            : { code: 554, enhanced: "5.6.0", text: "Bare LF or CR in message data is not allowed (RFC 5321 section 2.3.8)" },
        );
        return true;
      }
      send(await h.data(d.raw, mailFrom, rcpts));
      return true;
    }
    case "RSET":
      t.mailFrom = undefined;
      t.rcpts = [];
      send({ code: 250, enhanced: "2.0.0", text: "OK" });
      return true;
    case "NOOP":
      send({ code: 250, enhanced: "2.0.0", text: "OK" });
      return true;
    default:
      return false;
  }
}
