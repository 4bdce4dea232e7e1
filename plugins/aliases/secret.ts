// The SRS secret: generated once, kept in the `settings` table so every instance sharing
// the database (and every restart) signs and verifies with the same key.
import { eq } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import type { Db } from "../../core/db/open.ts";
import { settings } from "../../core/db/schema.ts";

export const SRS_SECRET_KEY = "aliases.srs_secret";

export async function srsSecret(db: Db): Promise<string> {
  const read = async () => (await db.orm.select().from(settings).where(eq(settings.key, SRS_SECRET_KEY)))[0]?.value;
  const have = await read();
  if (have) return have;
  // Two instances starting at once: the first insert wins, both read it back.
  await db.write((tx) =>
    tx.orm
      .insert(settings)
      .values({ key: SRS_SECRET_KEY, value: randomBytes(32).toString("hex") })
      .onConflictDoNothing(),
  );
  const v = await read();
  if (!v) throw new Error("could not store the SRS secret");
  return v;
}
