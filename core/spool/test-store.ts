// A minimal Store for the spool's own tests: real blobs, mailbox appends recorded.
import type { Db } from "../db/open.ts";
import { createFsBlobStore } from "../store/blobs.ts";
import type { BlobStore, DeliveryTarget, ParsedMessage, Store } from "../store/types.ts";

export interface TestStore extends Store {
  blobs: BlobStore;
  appended: { target: DeliveryTarget; raw: string }[];
  accountId(address: string): number;
}

export async function testStore(_db: Db, blobDir: string, domains: string[]): Promise<TestStore> {
  const blobs = await createFsBlobStore(blobDir);
  const accounts = new Map<string, number>();
  const appended: TestStore["appended"] = [];
  const accountId = (address: string) => {
    if (!accounts.has(address)) accounts.set(address, accounts.size + 1);
    return accounts.get(address)!;
  };
  const parsed = (size: number, prefixSize: number): ParsedMessage =>
    ({ envelope: {}, structure: {}, subject: "", from: "", to: "", cc: "", bcc: "", messageId: "", sentDate: null, preview: "", size, prefixSize }) as unknown as ParsedMessage;
  const partial: Partial<TestStore> = {
    blobs,
    appended,
    accountId,
    async prepare(raw, prefix = []) {
      const blob = await blobs.put(raw);
      const p = prefix.join("");
      return { blob, parsed: parsed(raw.length + Buffer.byteLength(p), Buffer.byteLength(p)) };
    },
    async appendInTx(_tx, target, blob, prefix) {
      const raw = prefix.join("") + Buffer.from(await blobs.get(blob.id)).toString();
      appended.push({ target, raw });
      return { uid: appended.length, mailboxId: target.accountId };
    },
    async isLocalDomain(name) {
      return domains.includes(name);
    },
    async getAccount(address) {
      const d = address.split("@")[1] ?? "";
      if (!domains.includes(d)) return null;
      return { id: accountId(address), address, domainId: 1, createdAt: 0, disabled: false };
    },
  };
  return partial as TestStore;
}
