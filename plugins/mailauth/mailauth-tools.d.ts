// Types for the one internal helper of mailauth we reuse: the RFC 8601 resinfo formatter.
declare module "mailauth/lib/tools.js" {
  export function formatAuthHeaderRow(method: string, status: Record<string, unknown>, options?: { strict?: boolean }): string;
  export function formatAuthservId(id: string, strict?: boolean): string;
}
