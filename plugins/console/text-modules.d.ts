// Assets imported `with { type: "text" }` (embedded in the binary).
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*/console.js" {
  const text: string;
  export default text;
}
