// The webmail's client files and DOMPurify, imported `with { type: "text" }` (embedded in the binary).
declare module "*/mail/app.js" {
  const text: string;
  export default text;
}
declare module "*/mail/jmap.js" {
  const text: string;
  export default text;
}
declare module "*/mail/view.js" {
  const text: string;
  export default text;
}
declare module "dompurify/purify.min.js" {
  const text: string;
  export default text;
}
