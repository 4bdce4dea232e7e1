// Showing one message safely. HTML mail is sanitized with DOMPurify here, then rendered in an
// iframe with `sandbox` (no allow-scripts, no allow-same-origin: an opaque origin that can
// run nothing and reach nothing of ours) whose document carries its own CSP: while remote
// content is blocked, nothing but inline data can load (no images, no CSS url(), no fonts).
// Remote images become placeholders until the reader allows them; cid: images are shown
// from the message's own parts (as data: URLs).
// DOMPurify (its UMD build, loaded by the page before this module) is on globalThis.
const DOMPurify = globalThis.DOMPurify;

const BLOCKED_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
const ALLOWED_CSP = "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; font-src https: data:";
const REMOTE = /^(https?:)?\/\//i;

/** Sanitized HTML of a message; counts the remote resources it blocked. */
export function sanitize(html, { allowRemote, cidUrls }) {
  let blocked = 0;
  const purify = DOMPurify();
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      const href = node.getAttribute("href") || "";
      if (/^\s*(javascript|data|vbscript):/i.test(href)) node.removeAttribute("href");
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
    for (const attr of ["src", "background", "poster"]) {
      const v = node.getAttribute?.(attr);
      if (!v) continue;
      if (/^cid:/i.test(v)) {
        const url = cidUrls.get(v.slice(4).replace(/^<|>$/g, "").toLowerCase());
        if (url) node.setAttribute(attr, url);
        else node.removeAttribute(attr);
      } else if (REMOTE.test(v) && !allowRemote) {
        node.setAttribute(`data-blocked-${attr}`, v);
        node.removeAttribute(attr);
        blocked++;
      }
    }
    if (node.hasAttribute?.("srcset") && !allowRemote) {
      node.removeAttribute("srcset");
      blocked++;
    }
    const style = node.getAttribute?.("style");
    if (style && /url\s*\(/i.test(style) && !allowRemote) {
      node.setAttribute("style", style.replace(/url\s*\([^)]*\)/gi, "none"));
      blocked++;
    }
  });
  purify.addHook("uponSanitizeElement", (node, data) => {
    if (data.tagName === "style" && !allowRemote && /url\s*\(|@import/i.test(node.textContent || "")) {
      node.textContent = node.textContent.replace(/@import[^;]+;?/gi, "").replace(/url\s*\([^)]*\)/gi, "none");
      blocked++;
    }
  });
  const clean = purify.sanitize(html, {
    WHOLE_DOCUMENT: false,
    // keep a mail's <style> (newsletters need it); its url()s are neutralized above while blocked
    FORCE_BODY: true,
    FORBID_TAGS: ["form", "input", "button", "textarea", "select", "meta", "link", "base", "iframe", "frame", "object", "embed", "script", "svg", "math"],
    FORBID_ATTR: ["formaction", "action", "ping"],
    ADD_ATTR: ["target"],
    ALLOW_DATA_ATTR: true,
  });
  return { html: clean, blocked };
}

/** The sandboxed frame for sanitized HTML, sized to its content. */
export function htmlFrame(html, allowRemote) {
  const frame = document.createElement("iframe");
  frame.className = "mail-frame";
  frame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
  frame.setAttribute("referrerpolicy", "no-referrer");
  frame.title = "Message";
  const csp = allowRemote ? ALLOWED_CSP : BLOCKED_CSP;
  frame.srcdoc = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><style>body{margin:0;padding:4px 2px;font:15px/1.5 system-ui,sans-serif;color:#1b2330;word-wrap:break-word}img{max-width:100%;height:auto}blockquote{border-left:3px solid #d0d7e2;margin:0 0 0 4px;padding-left:10px;color:#5d6b7e}</style></head><body>${html}</body></html>`;
  // Its opaque origin hides its height from us: it fills the reader and scrolls itself (CSS).
  return frame;
}

/** Plain text with links made clickable (everything else escaped). */
export function textBody(text) {
  const pre = document.createElement("div");
  pre.className = "mail-text";
  const re = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    pre.append(text.slice(last, m.index));
    const a = document.createElement("a");
    a.href = m[0];
    a.textContent = m[0];
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    pre.append(a);
    last = m.index + m[0].length;
  }
  pre.append(text.slice(last));
  return pre;
}

/** "Authentication-Results" summarised: a warning when DMARC (or SPF and DKIM) failed.
 *  Only the topmost field counts: it is the one our server added (RFC 8601 §5: fields
 *  further down came with the message and may be forged). */
export function authSummary(values) {
  const text = (values?.[0] ?? "").toLowerCase();
  if (!text) return null;
  const get = (k) => new RegExp(`\\b${k}=(\\w+)`).exec(text)?.[1];
  const dmarc = get("dmarc");
  const spf = get("spf");
  const dkim = get("dkim");
  if (dmarc === "fail") return { level: "fail", text: "This message failed DMARC: the sender's domain did not authorize it. Be careful with links and attachments." };
  if (dmarc === "pass") return { level: "pass", text: "Sender verified (DMARC pass)." };
  if (spf === "fail" && dkim !== "pass") return { level: "warn", text: "The sender could not be verified (SPF failed, no valid DKIM signature)." };
  return null;
}
