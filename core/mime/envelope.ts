// RFC 9051 §7.5.2 ENVELOPE from a header block: raw (still RFC 2047-encoded) strings,
// parsed address lists.
import type { Envelope, EnvelopeAddress } from "./types.ts";
import { getField, parseHeaderBytes, type HeaderField } from "./header.ts";
import { parseAddressList } from "./address.ts";

function addresses(fields: HeaderField[], name: string): EnvelopeAddress[] | null {
  const v = getField(fields, name);
  if (v === null) return null;
  const list = parseAddressList(v);
  return list.length ? list : null;
}

function nonEmpty(v: string | null): string | null {
  return v === null || v === "" ? null : v;
}

/** ENVELOPE from parsed header fields. Per RFC 9051 §7.5.2, an absent or empty Sender
 *  or Reply-To is set to From. */
export function envelopeFromFields(fields: HeaderField[]): Envelope {
  const from = addresses(fields, "from");
  return {
    date: nonEmpty(getField(fields, "date")),
    subject: nonEmpty(getField(fields, "subject")),
    from,
    sender: addresses(fields, "sender") ?? from,
    replyTo: addresses(fields, "reply-to") ?? from,
    to: addresses(fields, "to"),
    cc: addresses(fields, "cc"),
    bcc: addresses(fields, "bcc"),
    inReplyTo: nonEmpty(getField(fields, "in-reply-to")),
    messageId: nonEmpty(getField(fields, "message-id")),
  };
}

/** ENVELOPE of a message from its header bytes (the body, if included, is ignored). */
export function parseEnvelope(headerBytes: Uint8Array): Envelope {
  return envelopeFromFields(parseHeaderBytes(headerBytes).fields);
}
