// Blobs (RFC 8620 §6): uploads kept per account under <data>/jmap-uploads/<account>/
// (content-addressed, deleted after uploadTtlMs), and the download of whole messages and
// their parts from the store. Blob ids: "U"+sha-256 (an upload), "M"+email id (the
// message), "M"+email id+"_"+partId (a part, transfer-decoded).
import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseObjectId } from "../../core/store/ids.ts";
import type { Store } from "../../core/store/types.ts";
import { numberParts, partBytes } from "./body.ts";

export interface Uploads {
  put(accountId: number, data: Uint8Array): Promise<string>;
  get(accountId: number, blobId: string): Promise<Uint8Array | null>;
  /** Deletes uploads older than the TTL. */
  sweep(): void;
}

export function createUploads(dir: string, ttlMs: number): Uploads {
  const accountDir = (a: number) => join(dir, String(a));
  return {
    async put(accountId, data) {
      const hash = new Bun.CryptoHasher("sha256").update(data).digest("hex");
      const d = accountDir(accountId);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      const tmp = join(d, `.${hash}.${process.pid}.${Math.random().toString(36).slice(2)}`);
      await writeFile(tmp, data, { mode: 0o600 });
      await rename(tmp, join(d, hash));
      return "U" + hash;
    },
    async get(accountId, blobId) {
      if (!/^U[0-9a-f]{64}$/.test(blobId)) return null;
      try {
        return new Uint8Array(await readFile(join(accountDir(accountId), blobId.slice(1))));
      } catch {
        return null;
      }
    },
    sweep() {
      const now = Date.now();
      let accounts: string[] = [];
      try {
        accounts = readdirSync(dir);
      } catch {
        return;
      }
      for (const a of accounts) {
        for (const f of readdirSync(join(dir, a))) {
          const p = join(dir, a, f);
          try {
            if (now - statSync(p).mtimeMs > ttlMs) unlinkSync(p);
          } catch {
            // gone meanwhile
          }
        }
      }
    },
  };
}

/** The bytes behind any blob id the account may read, or null. */
export async function readBlob(store: Store, uploads: Uploads, accountId: number, blobId: string): Promise<Uint8Array | null> {
  if (blobId.startsWith("U")) return uploads.get(accountId, blobId);
  const m = /^M([0-9a-z]{1,11})(?:_([0-9]{1,6}))?$/.exec(blobId);
  if (!m) return null;
  const emailId = parseObjectId("e", "e" + m[1]);
  if (emailId === null) return null;
  const [meta] = await store.emailsById(accountId, [emailId]);
  if (!meta) return null;
  let bytes: Uint8Array;
  try {
    bytes = await store.read(meta);
  } catch {
    return null;
  }
  if (!m[2]) return bytes;
  const part = numberParts(meta.structure).byId.get(m[2]);
  return part ? partBytes(part.mime, bytes) : null;
}
