// The parsed-once structure of a message, stored as JSON with each message row.
// IMAP builds ENVELOPE, BODYSTRUCTURE and BODY[section] answers from it (RFC 9051 §7.5.2)
// without reparsing; byte offsets let it slice sections out of the stored bytes.

/** RFC 9051 §7.5.2 ENVELOPE: raw header values (still RFC 2047 encoded), null when absent. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** One address, or a group start (mailbox = group name, host = null) / group end
 *  (all null), as RFC 9051 §7.5.2 describes. */
export interface EnvelopeAddress {
  name: string | null;
  adl: null;
  mailbox: string | null;
  host: string | null;
}

export interface MimePart {
  /** Lower-case, e.g. "text", "plain"; defaults per RFC 2045 §5.2 (text/plain; charset=us-ascii). */
  type: string;
  subtype: string;
  /** Content-Type parameters, names lower-cased, values decoded (RFC 2231). */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, upper-case as given ("7BIT" default). */
  encoding: string;
  md5: string | null;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  /** Byte offsets into the full message (prefix included): header start, body start, end. */
  headerStart: number;
  bodyStart: number;
  end: number;
  /** Lines in the body (text/* and message/rfc822). */
  lines: number;
  /** multipart/*: the parts. */
  parts?: MimePart[];
  /** message/rfc822 (and message/global): the encapsulated message. */
  message?: { envelope: Envelope; body: MimePart };
}
