// Types for the internals of mailauth we reuse: the RFC 8601 resinfo formatter, and the
// message parser whose byte-wise scans fast-parser.ts replaces.
declare module "mailauth/lib/tools.js" {
  export function formatAuthHeaderRow(method: string, status: Record<string, unknown>, options?: { strict?: boolean }): string;
  export function formatAuthservId(id: string, strict?: boolean): string;
}
declare module "mailauth/lib/dkim/message-parser.js" {
  export class MessageParser {
    constructor(options?: object);
  }
}
