// drizzle-kit config for `npm run db:generate` (scripts/db-generate.sh).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "turso",
  schema: "./core/db/schema.ts",
  out: "./core/db/migrations",
});
