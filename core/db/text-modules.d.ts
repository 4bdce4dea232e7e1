// SQL migrations are imported `with { type: "text" }` (core/db/migrations.gen.ts).
declare module "*.sql" {
  const text: string;
  export default text;
}
