// The webmail (`/mail/`): a small client app (webui/mail/, plain ES modules, no build step)
// that talks only JMAP (plugins/jmap) with the web console's session cookie. The server
// renders nothing of a message: HTML mail is sanitized in the browser with DOMPurify and
// shown in a sandboxed iframe (no scripts, no same-origin) under a strict CSP; remote
// images and styles stay blocked until the reader allows them. Assets are embedded.
import { definePlugin } from "../../core/types.ts";
import type { Context } from "hono";
import appJs from "../../webui/mail/app.js" with { type: "text" };
import jmapJs from "../../webui/mail/jmap.js" with { type: "text" };
import viewJs from "../../webui/mail/view.js" with { type: "text" };
import css from "../../webui/mail/mail.css" with { type: "text" };
import purify from "dompurify/purify.min.js" with { type: "text" };
import { mailPage } from "./page.ts";

/** The app's policy: its own scripts only; images may come from anywhere only because the
 *  reader may allow them per message — the message frame then carries a stricter policy of
 *  its own (view.js) while they are blocked. Inline styles for mail formatting. */
export const MAIL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self' about: blob:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

// A Map, not an object: /mail/assets/constructor must not find Object's constructor.
const ASSETS = new Map<string, [string, string]>([
  ["app.js", [appJs, "text/javascript; charset=utf-8"]],
  ["jmap.js", [jmapJs, "text/javascript; charset=utf-8"]],
  ["view.js", [viewJs, "text/javascript; charset=utf-8"]],
  ["purify.js", [purify, "text/javascript; charset=utf-8"]],
  ["mail.css", [css, "text/css; charset=utf-8"]],
]);

const secureHeaders = (c: Context) => {
  c.header("Content-Security-Policy", MAIL_CSP);
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cache-Control", "no-store");
};

export default definePlugin({
  name: "webmail",
  setup(core) {
    core.hooks.on("http.routes", (app) => {
      const page = async (c: Context) => {
        const who = await core.hooks.first("http.auth", c.req.raw);
        if (who.kind !== "user") return c.redirect("/login?next=%2Fmail%2F", 303);
        secureHeaders(c);
        return c.html(mailPage({ address: who.user.address, csrf: who.csrf, admin: who.admin }));
      };
      app.get("/mail", (c) => c.redirect("/mail/", 301));
      app.get("/mail/", page);
      app.get("/mail/assets/:name", (c) => {
        const a = ASSETS.get(c.req.param("name"));
        if (!a) return c.text("not found\n", 404);
        secureHeaders(c);
        c.header("Cache-Control", "no-cache");
        return c.body(a[0], 200, { "content-type": a[1] });
      });
    });
  },
});
