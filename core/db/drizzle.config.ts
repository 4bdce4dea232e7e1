// drizzle-kit config for `npm run db:generate` (scripts/db-generate.sh).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "turso",
  // The core's tables and every plugin's own (plugins/<name>/schema.ts): one database.
  schema: ["./core/db/schema.ts", "./plugins/*/schema.ts"],
  out: "./core/db/migrations",
});
