// drizzle-kit config for `npm run db:generate` (scripts/db-generate.sh).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "turso",
  // Plugins' own tables live beside them (plugins/<name>/schema.ts).
  schema: ["./core/db/schema.ts", "./plugins/*/schema.ts"],
  out: "./core/db/migrations",
});
