// The webmail app: folders, the message list, the reader and the composer, all on JMAP.
import { call, downloadUrl, JmapError, listen, session, upload } from "./jmap.js";
import { authSummary, htmlFrame, sanitize, textBody } from "./view.js";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...kids.filter((x) => x !== null && x !== undefined));
  return e;
};

// Icons: static SVG (stroke paths, 24×24), so they look the same without emoji fonts.
const ICON_PATHS = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  sent: "M22 2 11 13M22 2l-7 20-4-9-9-4z",
  drafts: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  junk: "M12 3 2 20h20zM12 10v4M12 17v.5",
  archive: "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
  folder: "M3 6h6l2 2h10v11H3z",
  clip: "M21 11 12 20a6 6 0 0 1-8-8l9-9a4 4 0 0 1 6 6l-9 9a2 2 0 0 1-3-3l8-8",
  star: "m12 3 3 6 6 1-4.5 4.5L18 21l-6-3-6 3 1.5-6.5L3 10l6-1z",
};
function icon(name, label) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon-${name}`);
  if (label) svg.setAttribute("aria-label", label);
  else svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICON_PATHS[name]);
  svg.append(path);
  return svg;
}
/** A mailbox's name as people say it ("INBOX" is the protocol's spelling). */
const displayName = (m) => (m.role === "inbox" ? "Inbox" : m.name);
const LIST_PROPS = ["threadId", "mailboxIds", "keywords", "from", "to", "subject", "receivedAt", "preview", "hasAttachment", "size"];
const PAGE = 50;
const me = document.querySelector('meta[name="account"]').content;

const state = { accountId: "", mailboxes: [], current: null, ids: [], emails: new Map(), total: 0, selected: null, checked: new Set(), search: null, position: 0, open: null, allowRemote: new Set() };

function toast(text, error = false) {
  const t = $("#toast");
  t.textContent = text;
  t.className = error ? "show error" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = ""), error ? 7000 : 3000);
}

const byRole = (role) => state.mailboxes.find((m) => m.role === role);
const mailboxName = (id) => {
  const m = state.mailboxes.find((x) => x.id === id);
  return m ? displayName(m) : "";
};

function fmtDate(iso) {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString([], { month: "short", day: "numeric" });
  return d.toLocaleDateString();
}
const who = (list) => (list?.length ? list.map((a) => a.name || a.email).join(", ") : "");
const fmtSize = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);

// ---------- folders ----------

async function loadMailboxes() {
  setMailboxes((await call([["Mailbox/get", { accountId: state.accountId }]]))["0"].list);
}
/** Takes a Mailbox/get list; false when the open folder is gone (then it is the Inbox). */
function setMailboxes(list) {
  const order = { inbox: 0, drafts: 1, sent: 2, archive: 3, junk: 4, trash: 5 };
  state.mailboxes = list.sort((a, b) => (order[a.role] ?? 9) - (order[b.role] ?? 9) || a.name.localeCompare(b.name));
  const kept = !!state.current && state.mailboxes.some((m) => m.id === state.current);
  if (!kept) state.current = byRole("inbox")?.id ?? state.mailboxes[0]?.id;
  renderFolders();
  return kept;
}

function renderFolders() {
  const ul = $("#folder-list");
  ul.replaceChildren(
    ...state.mailboxes.map((m) =>
      el(
        "li",
        {},
        el(
          "button",
          {
            class: m.id === state.current && !state.search ? "folder on" : "folder",
            "data-id": m.id,
            onclick: () => openFolder(m.id),
            ondragover: (e) => e.preventDefault(),
            ondrop: (e) => dropOn(e, m.id),
          },
          icon(ICON_PATHS[m.role] ? m.role : "folder"),
          el("span", { class: "name", text: displayName(m) }),
          m.unreadEmails ? el("span", { class: "count", "aria-label": `${m.unreadEmails} unread`, text: String(m.unreadEmails) }) : null,
        ),
        !m.role
          ? el(
              "span",
              { class: "folder-tools" },
              el("button", { class: "link", title: "Rename", "aria-label": `Rename ${m.name}`, text: "✎", onclick: () => renameFolder(m) }),
              el("button", { class: "link", title: "Delete", "aria-label": `Delete ${m.name}`, text: "×", onclick: () => deleteFolder(m) }),
            )
          : null,
      ),
    ),
  );
  const sel = $("#move-to");
  sel.replaceChildren(el("option", { value: "", text: "Move to…" }), ...state.mailboxes.map((m) => el("option", { value: m.id, text: displayName(m) })));
}

async function createFolder() {
  const name = prompt("Name of the new folder");
  if (!name) return;
  await guarded(() => call([["Mailbox/set", { accountId: state.accountId, create: { n: { name, parentId: null } } }]]).then(checkSet("created", "n")));
  await loadMailboxes();
}
async function renameFolder(m) {
  const name = prompt("New name", m.name);
  if (!name || name === m.name) return;
  await guarded(() => call([["Mailbox/set", { accountId: state.accountId, update: { [m.id]: { name } } }]]).then(checkSet("updated", m.id)));
  await loadMailboxes();
}
async function deleteFolder(m) {
  if (!confirm(`Delete the folder "${m.name}" and the messages in it?`)) return;
  await guarded(() => call([["Mailbox/set", { accountId: state.accountId, destroy: [m.id], onDestroyRemoveEmails: true }]]).then(checkSet("destroyed", m.id)));
  if (state.current === m.id) state.current = null;
  await loadMailboxes();
  await loadList();
}

/** A /set response must have done what was asked, else its error is shown. */
const checkSet = (what, id) => (r) => {
  const res = r["0"];
  const failed = res[`not${what[0].toUpperCase()}${what.slice(1)}`];
  if (failed?.[id]) throw new JmapError(failed[id].type, failed[id].description);
  return r;
};

async function guarded(fn) {
  try {
    return await fn();
  } catch (e) {
    toast(e instanceof JmapError ? e.message : `Something went wrong: ${e.message}`, true);
    return null;
  }
}

/** On a phone: the right pane (message, composer, settings) alone, the folder menu closed. */
function showPane() {
  document.body.classList.add("reading");
  document.body.classList.remove("show-folders");
}

// ---------- the list ----------

/** Search syntax → an Email/query filter (RFC 8621 §4.4.1). */
export function parseSearch(q) {
  const conds = [];
  const free = [];
  for (const m of q.matchAll(/(\w+):("[^"]*"|\S+)|("[^"]*"|\S+)/g)) {
    const [, key, raw, word] = m;
    const val = (raw ?? word ?? "").replace(/^"|"$/g, "");
    if (!key) free.push(val);
    else if (key === "from") conds.push({ from: val });
    else if (key === "to") conds.push({ to: val });
    else if (key === "subject") conds.push({ subject: val });
    else if (key === "has" && val === "attachment") conds.push({ hasAttachment: true });
    else if (key === "before") conds.push({ before: new Date(val).toISOString() });
    else if (key === "after") conds.push({ after: new Date(val).toISOString() });
    else if (key === "is" && val === "unread") conds.push({ notKeyword: "$seen" });
    else if (key === "is" && val === "flagged") conds.push({ hasKeyword: "$flagged" });
    else free.push(`${key}:${val}`);
  }
  if (free.length) conds.push({ text: free.join(" ") });
  return conds.length === 1 ? conds[0] : { operator: "AND", conditions: conds };
}

/** The list's first page (or the next, `append`); with `withMailboxes` the folders too,
 *  in the same request (a live update costs one round trip). */
async function loadList(append = false, withMailboxes = false) {
  const filter = state.search ? parseSearch(state.search) : { inMailbox: state.current };
  const position = append ? state.ids.length : 0;
  const pre = withMailboxes ? [["Mailbox/get", { accountId: state.accountId }]] : [];
  const n = pre.length;
  const r = await guarded(() =>
    call([
      ...pre,
      ["Email/query", { accountId: state.accountId, filter, sort: [{ property: "receivedAt", isAscending: false }], collapseThreads: !state.search, position, limit: PAGE, calculateTotal: true }],
      ["Email/get", { accountId: state.accountId, "#ids": { resultOf: String(n), name: "Email/query", path: "/ids" }, properties: LIST_PROPS }],
      ["Thread/get", { accountId: state.accountId, "#ids": { resultOf: String(n + 1), name: "Email/get", path: "/list/*/threadId" } }],
    ]),
  );
  if (!r) return;
  if (withMailboxes && !setMailboxes(r["0"].list) && !state.search) return loadList();
  const [q, got, th] = [r[String(n)], r[String(n + 1)], r[String(n + 2)]];
  const threads = new Map(th.list.map((t) => [t.id, t.emailIds.length]));
  for (const e of got.list) state.emails.set(e.id, { ...e, threadSize: threads.get(e.threadId) ?? 1 });
  state.ids = append ? [...state.ids, ...q.ids] : q.ids;
  state.total = q.total ?? state.ids.length;
  // a live update keeps the selection (of what is still listed)
  for (const id of state.checked) if (!state.ids.includes(id)) state.checked.delete(id);
  renderList();
}

function renderList() {
  const title = state.search ? `Search: ${state.search}` : mailboxName(state.current);
  $("#list-title").textContent = title;
  document.title = `${title} · kotakpos mail`;
  const ul = $("#messages");
  if (!state.ids.length) {
    ul.replaceChildren(el("li", { class: "none", text: state.search ? "Nothing found." : "No messages here." }));
  } else {
    ul.replaceChildren(
      ...state.ids.map((id) => {
        const e = state.emails.get(id);
        if (!e) return el("li");
        const unread = !e.keywords?.$seen;
        const flagged = !!e.keywords?.$flagged;
        const fromOrTo = mailboxRole(state.current) === "sent" || mailboxRole(state.current) === "drafts" ? `To: ${who(e.to)}` : who(e.from);
        return el(
          "li",
          {
            class: ["msg", unread && "unread", id === state.selected && "on", state.checked.has(id) && "checked"].filter(Boolean).join(" "),
            "data-id": id,
            draggable: "true",
            ondragstart: (ev) => ev.dataTransfer.setData("text/x-email-ids", JSON.stringify(state.checked.size ? [...state.checked] : [id])),
          },
          el("input", { type: "checkbox", "aria-label": "Select", checked: state.checked.has(id), onclick: (ev) => toggleCheck(id, ev) }),
          el(
            "button",
            { class: "row", onclick: () => openEmail(id) },
            el("span", { class: "from", text: fromOrTo || "(no sender)" }),
            e.threadSize > 1 ? el("span", { class: "thread", "aria-label": `${e.threadSize} messages in the conversation`, text: String(e.threadSize) }) : null,
            el("span", { class: "date", text: fmtDate(e.receivedAt) }),
            el("span", { class: "subject", text: e.subject || "(no subject)" }),
            el("span", { class: "preview", text: e.preview || "" }),
            el("span", { class: "marks" }, e.hasAttachment ? icon("clip", "has attachment") : null, flagged ? icon("star", "flagged") : null),
          ),
        );
      }),
    );
  }
  $("#more").hidden = state.ids.length >= state.total;
  $("#bulk").hidden = state.checked.size === 0;
  $("#bulk [data-act=junk]").textContent = state.current === byRole("junk")?.id && !state.search ? "Not junk" : "Junk";
}

const mailboxRole = (id) => state.mailboxes.find((m) => m.id === id)?.role;

function toggleCheck(id, ev) {
  ev.stopPropagation();
  if (state.checked.has(id)) state.checked.delete(id);
  else state.checked.add(id);
  renderList();
}

async function openFolder(id) {
  state.current = id;
  state.search = null;
  $("#q").value = "";
  state.selected = null;
  document.body.classList.remove("show-folders", "reading");
  renderFolders();
  $("#reader").replaceChildren(el("div", { class: "empty", text: "Select a message to read it." }));
  await loadList();
}

// ---------- acting on messages ----------

async function setKeywords(ids, kw, on) {
  const update = Object.fromEntries(ids.map((id) => [id, { [`keywords/${kw}`]: on ? true : null }]));
  await guarded(() => call([["Email/set", { accountId: state.accountId, update }]]));
}

async function moveTo(ids, mailboxId) {
  const update = Object.fromEntries(ids.map((id) => [id, { mailboxIds: { [mailboxId]: true } }]));
  const r = await guarded(() => call([["Email/set", { accountId: state.accountId, update }]]));
  if (r && Object.keys(r["0"].notUpdated ?? {}).length) toast("Some messages could not be moved.", true);
  return r;
}

async function remove(ids) {
  const trash = byRole("trash");
  if (!trash || state.current === trash.id) {
    if (!confirm(ids.length === 1 ? "Delete this message for good?" : `Delete ${ids.length} messages for good?`)) return;
    await guarded(() => call([["Email/set", { accountId: state.accountId, destroy: ids }]]));
    toast(ids.length === 1 ? "Deleted." : `${ids.length} deleted.`);
  } else {
    await moveTo(ids, trash.id);
    toast(ids.length === 1 ? "Moved to Trash." : `${ids.length} moved to Trash.`);
  }
  afterChange(ids);
}

async function junk(ids) {
  const j = byRole("junk");
  const inJunk = state.current === j?.id;
  const target = inJunk ? byRole("inbox") : j;
  if (!target) return toast("There is no Junk folder.", true);
  await moveTo(ids, target.id);
  toast(inJunk ? "Not junk: moved to Inbox." : "Moved to Junk.");
  afterChange(ids);
}

function afterChange(ids) {
  if (ids.includes(state.selected)) {
    state.selected = null;
    $("#reader").replaceChildren(el("div", { class: "empty", text: "Select a message to read it." }));
    document.body.classList.remove("reading");
  }
  state.checked.clear();
  refresh();
}

async function bulk(act) {
  const ids = [...state.checked];
  if (!ids.length) return;
  if (act === "read" || act === "unread") await setKeywords(ids, "$seen", act === "read");
  else if (act === "flag") await setKeywords(ids, "$flagged", !ids.every((id) => state.emails.get(id)?.keywords?.$flagged));
  else if (act === "delete") return remove(ids);
  else if (act === "junk") return junk(ids);
  state.checked.clear();
  refresh();
}

async function dropOn(ev, mailboxId) {
  ev.preventDefault();
  const ids = JSON.parse(ev.dataTransfer.getData("text/x-email-ids") || "[]");
  if (ids.length) {
    await moveTo(ids, mailboxId);
    toast(`Moved to ${mailboxName(mailboxId)}.`);
    afterChange(ids);
  }
}

// ---------- the reader ----------

const FULL_PROPS = [
  "id",
  "blobId",
  "threadId",
  "mailboxIds",
  "keywords",
  "from",
  "to",
  "cc",
  "replyTo",
  "subject",
  "sentAt",
  "receivedAt",
  "messageId",
  "references",
  "htmlBody",
  "textBody",
  "attachments",
  "bodyValues",
  "header:Authentication-Results:asText:all",
  "size",
];
const CARD_PROPS = ["id", "threadId", "mailboxIds", "keywords", "from", "to", "cc", "subject", "receivedAt", "preview", "hasAttachment"];
const fullGet = (ids) => ["Email/get", { accountId: state.accountId, ids, properties: FULL_PROPS, fetchHTMLBodyValues: true, fetchTextBodyValues: true, maxBodyValueBytes: 2_000_000 }];

/** Opens a message with its conversation (RFC 8621 §3 Thread): the other messages of the
 *  thread, wherever they are filed (a reply in Sent too), collapsed around it. */
async function openEmail(id) {
  state.selected = id;
  showPane();
  const r = await guarded(() =>
    call([
      fullGet([id]),
      ["Thread/get", { accountId: state.accountId, "#ids": { resultOf: "0", name: "Email/get", path: "/list/*/threadId" } }],
      ["Email/get", { accountId: state.accountId, "#ids": { resultOf: "1", name: "Thread/get", path: "/list/*/emailIds" }, properties: CARD_PROPS }],
    ]),
  );
  const e = r?.["0"].list[0];
  if (!e) return;
  state.open = e;
  if (!e.keywords?.$seen && !e.keywords?.$draft) {
    await setKeywords([id], "$seen", true);
    const cached = state.emails.get(id);
    if (cached) cached.keywords = { ...cached.keywords, $seen: true };
  }
  if (e.keywords?.$draft) return compose({ draft: e });
  // Drafts are not part of the conversation; Trash and Junk only when reading there.
  const hidden = new Set([byRole("trash")?.id, byRole("junk")?.id].filter((x) => x && !e.mailboxIds[x]));
  const thread = r["2"].list.filter((m) => m.id === e.id || (!m.keywords?.$draft && !Object.keys(m.mailboxIds).some((b) => hidden.has(b))));
  thread.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  await renderReader(e, thread);
  renderList();
}

async function cidUrls(e) {
  const map = new Map();
  for (const part of [...(e.attachments ?? []), ...(e.htmlBody ?? [])]) {
    if (!part.cid || !part.blobId || !(part.type ?? "").startsWith("image/")) continue;
    const res = await fetch(downloadUrl(state.accountId, part.blobId, part.name || "image", part.type), { credentials: "same-origin" });
    if (!res.ok) continue;
    const b = new Uint8Array(await res.arrayBuffer());
    let bin = "";
    for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
    map.set(part.cid.replace(/^<|>$/g, "").toLowerCase(), `data:${part.type};base64,${btoa(bin)}`);
  }
  return map;
}

/** The actions on one message. */
function messageTools(e, main) {
  const flagged = !!e.keywords?.$flagged;
  const inTrash = state.current === byRole("trash")?.id;
  const reply = el("button", { text: "Reply", title: main ? "Reply (r)" : "Reply", onclick: () => compose({ reply: e }) });
  const replyAll = el("button", { text: "Reply all", title: main ? "Reply all (a)" : "Reply all", onclick: () => compose({ reply: e, all: true }) });
  const forward = el("button", { text: "Forward", title: main ? "Forward (f)" : "Forward", onclick: () => compose({ forward: e }) });
  const asAttachment = el("button", { text: "Forward as attachment", onclick: () => compose({ forward: e, asAttachment: true }) });
  const original = el("a", { class: "button", href: downloadUrl(state.accountId, e.blobId, "message.eml", "message/rfc822"), target: "_blank", text: "Show original" });
  if (!main) return el("div", { class: "card-tools", role: "toolbar", "aria-label": "Actions on this message" }, reply, replyAll, forward, asAttachment, original);
  return el(
    "div",
    { class: "tools", role: "toolbar", "aria-label": "Message actions" },
    el("button", { class: "only-phone", text: "← Back", onclick: () => document.body.classList.remove("reading") }),
    reply,
    replyAll,
    forward,
    asAttachment,
    el("button", { text: flagged ? "Unflag" : "Flag", onclick: async () => (await setKeywords([e.id], "$flagged", !flagged), openEmail(e.id), refresh()) }),
    el("button", { text: "Unread", onclick: async () => (await setKeywords([e.id], "$seen", false), refresh()) }),
    el("button", { text: state.current === byRole("junk")?.id ? "Not junk" : "Junk", onclick: () => junk([e.id]) }),
    el("button", { text: inTrash ? "Delete for good" : "Delete", title: "Delete (#)", onclick: () => remove([e.id]) }),
    original,
  );
}

/** One message's content: warnings, attachments and the body (sanitized HTML or text). */
async function messageContent(e, redraw) {
  const sender = e.from?.[0]?.email ?? "";
  const allowRemote = state.allowRemote.has(e.id) || allowedSenders().includes(sender.toLowerCase());
  const body = el("div", { class: "body" });
  const html = e.htmlBody?.find((p) => p.type === "text/html");
  const notes = [];
  const auth = authSummary(e["header:Authentication-Results:asText:all"]);
  if (auth && auth.level !== "pass") notes.push(el("div", { class: `note ${auth.level}`, role: "alert", text: auth.text }));
  if (html && e.bodyValues?.[html.partId]) {
    const { html: clean, blocked } = sanitize(e.bodyValues[html.partId].value, { allowRemote, cidUrls: await cidUrls(e) });
    if (blocked && !allowRemote)
      notes.push(
        el(
          "div",
          { class: "note info" },
          el("span", { text: "Remote images and styles are blocked, so the sender cannot see that you read this. " }),
          el("button", { class: "link", text: "Show them", onclick: () => (state.allowRemote.add(e.id), redraw()) }),
          el("span", { text: " · " }),
          el("button", { class: "link", text: `Always for ${sender}`, onclick: () => (allowSender(sender), redraw()) }),
        ),
      );
    body.append(htmlFrame(clean, allowRemote));
  } else {
    const text = (e.textBody ?? []).map((p) => e.bodyValues?.[p.partId]?.value ?? "").join("\n");
    body.append(textBody(text));
  }
  const atts = (e.attachments ?? []).filter((a) => !(a.cid && html));
  return [
    ...notes,
    atts.length
      ? el(
          "ul",
          { class: "attachments", "aria-label": "Attachments" },
          ...atts.map((a) =>
            el(
              "li",
              {},
              icon("clip"),
              el("a", { href: downloadUrl(state.accountId, a.blobId, a.name, a.type), download: a.name || "attachment", text: a.name || "attachment" }),
              el("span", { class: "muted small", text: ` ${a.type} · ${fmtSize(a.size)}` }),
            ),
          ),
        )
      : null,
    body,
  ].filter((x) => x !== null);
}

const metaLines = (e) => [
  el("div", { class: "muted small", text: `To: ${who(e.to)}${e.cc?.length ? ` · Cc: ${who(e.cc)}` : ""}` }),
  el("div", { class: "muted small", text: new Date(e.receivedAt).toLocaleString() }),
];

/** A message of a conversation: its header (a button that expands or collapses it), then
 *  when expanded its content, loaded the first time. */
function card(m, open) {
  const art = el("article", { class: open ? "card" : "card collapsed", "data-id": m.id });
  let full = open;
  const head = el(
    "button",
    { class: "card-head", "aria-expanded": open ? "true" : "false", onclick: () => toggle() },
    el("b", { class: "card-from", text: who(m.from) || "(no sender)" }),
    el("span", { class: "card-date muted small", text: fmtDate(m.receivedAt) }),
    el("span", { class: "card-preview muted small", text: m.preview ?? "" }),
  );
  const inner = el("div", { class: "card-body" });
  art.append(head, inner);
  const fill = async (e) => {
    const from = e.from?.[0] ? `From: ${fmtAddrs(e.from)}` : "";
    inner.replaceChildren(el("div", { class: "muted small", text: from }), ...metaLines(e), ...(e.id === state.open?.id ? [] : [messageTools(e, false)]), ...(await messageContent(e, () => fill(e))));
  };
  const toggle = async () => {
    const expand = art.classList.contains("collapsed");
    art.classList.toggle("collapsed", !expand);
    head.setAttribute("aria-expanded", expand ? "true" : "false");
    if (!expand || full) return;
    full = true;
    inner.replaceChildren(el("div", { class: "muted small", text: "Loading…" }));
    const r = await guarded(() => call([fullGet([m.id])]));
    const e = r?.["0"].list[0];
    if (!e) return;
    if (!e.keywords?.$seen) await setKeywords([e.id], "$seen", true);
    await fill(e);
  };
  return { art, fill };
}

async function renderReader(e, thread = [e]) {
  // a conversation is named by its first message (without the replies' "Re:")
  const subject = (thread.length > 1 ? thread[0].subject : e.subject) || e.subject;
  const parts = [messageTools(e, true), el("h1", { class: "subject", text: subject || "(no subject)" })];
  if (thread.length <= 1) {
    parts.push(
      el("div", { class: "meta" }, el("div", {}, el("b", { text: who(e.from) }), el("span", { class: "muted", text: e.from?.[0] ? ` <${e.from[0].email}>` : "" })), ...metaLines(e)),
      ...(await messageContent(e, () => renderReader(e))),
    );
  } else {
    const conv = el("div", { class: "conversation", "aria-label": `Conversation of ${thread.length} messages` });
    for (const m of thread) {
      const c = card(m, m.id === e.id);
      if (m.id === e.id) await c.fill(e);
      conv.append(c.art);
    }
    parts.push(el("div", { class: "muted small conv-count", text: `${thread.length} messages in this conversation` }), conv);
  }
  $("#reader").replaceChildren(...parts);
  $("#reader").querySelector(".card:not(.collapsed)")?.scrollIntoView({ block: "nearest" });
}

const allowedSenders = () => JSON.parse(localStorage.getItem("kotakpos.allowImagesFrom") || "[]");
function allowSender(addr) {
  const s = new Set(allowedSenders());
  s.add(addr.toLowerCase());
  localStorage.setItem("kotakpos.allowImagesFrom", JSON.stringify([...s]));
}

// ---------- writing ----------

let identities = [];
// Autocomplete: the addresses the user has written to, from the recipients of the latest
// messages in Sent (so on every device), plus those sent from this browser since.
const contactsKey = "kotakpos.contacts";
const localContacts = () => JSON.parse(localStorage.getItem(contactsKey) || "[]");
function rememberContacts(addrs) {
  const s = new Set(localContacts());
  for (const a of addrs) s.add(a);
  localStorage.setItem(contactsKey, JSON.stringify([...s].slice(-500)));
}
let sentContacts = null;
async function contacts() {
  const sent = byRole("sent");
  if (!sentContacts && sent) {
    const r = await call([
      ["Email/query", { accountId: state.accountId, filter: { inMailbox: sent.id }, sort: [{ property: "receivedAt", isAscending: false }], limit: 200 }],
      ["Email/get", { accountId: state.accountId, "#ids": { resultOf: "0", name: "Email/query", path: "/ids" }, properties: ["to", "cc", "bcc"] }],
    ]).catch(() => null);
    sentContacts = r ? r["1"].list.flatMap((m) => [...(m.to ?? []), ...(m.cc ?? []), ...(m.bcc ?? [])]) : [];
  }
  const byEmail = new Map();
  for (const a of [...(sentContacts ?? []), ...localContacts().map((email) => ({ email }))]) {
    const k = a.email.toLowerCase();
    if (!byEmail.has(k) || (a.name && !byEmail.get(k).name)) byEmail.set(k, a);
  }
  return [...byEmail.values()].map((a) => fmtAddrs([a]));
}

const parseAddrs = (s) =>
  s
    .split(/[,;]/)
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const m = /^(.*)<([^>]+)>$/.exec(x);
      return m ? { name: m[1].trim().replace(/^"|"$/g, "") || null, email: m[2].trim() } : { name: null, email: x };
    });
const fmtAddrs = (l) => (l ?? []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(", ");
const quote = (text) =>
  text
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");

/** The formatting buttons of a contenteditable editor (compose, the HTML signature). */
function richToolbar(editor) {
  const cmd = (name, arg) => () => (editor.focus(), document.execCommand(name, false, arg));
  return el(
    "div",
    { class: "rich-bar", role: "toolbar", "aria-label": "Formatting" },
    el("button", { type: "button", title: "Bold", "aria-label": "Bold", onclick: cmd("bold") }, el("b", { text: "B" })),
    el("button", { type: "button", title: "Italic", "aria-label": "Italic", onclick: cmd("italic") }, el("i", { text: "I" })),
    el("button", { type: "button", title: "Bulleted list", text: "• List", onclick: cmd("insertUnorderedList") }),
    el("button", { type: "button", title: "Numbered list", text: "1. List", onclick: cmd("insertOrderedList") }),
    el("button", { type: "button", title: "Quote", text: "❝ Quote", onclick: cmd("formatBlock", "blockquote") }),
    el("button", {
      type: "button",
      title: "Link",
      text: "Link",
      onclick: () => {
        const url = prompt("Link address (https://…)");
        if (url && /^(https?:|mailto:)/i.test(url)) cmd("createLink", url)();
      },
    }),
  );
}

const cleanHtml = (html) => sanitize(html, { allowRemote: false, cidUrls: new Map() }).html;
/** HTML as plain text (line breaks kept), for a signature that has only an HTML form. */
function htmlText(html) {
  const d = new DOMParser().parseFromString(cleanHtml(html.replace(/<br\s*\/?>/gi, "\n").replace(/<\/(p|div|li|h\d|blockquote)>/gi, "$&\n")), "text/html");
  return (d.body.textContent ?? "").replace(/\n{3,}/g, "\n\n").trim();
}
/** An identity's signature block in plain text ("-- " line, then the signature). */
function sigBlock(ident) {
  const t = ident?.textSignature?.trim() ? ident.textSignature.replace(/\s+$/, "") : ident?.htmlSignature ? htmlText(ident.htmlSignature) : "";
  return t ? `-- \n${t}` : "";
}
/** The same in the rich editor: the HTML signature (sanitized), else the text one. */
function sigElement(ident) {
  const div = el("div", { class: "signature", "data-signature": "" });
  if (ident?.htmlSignature?.trim()) div.innerHTML = `-- <br>${cleanHtml(ident.htmlSignature)}`;
  else
    div.append(
      ...sigBlock(ident)
        .split("\n")
        .flatMap((l, i) => (i ? [el("br"), l] : [l])),
    );
  return div;
}

async function compose(opts = {}) {
  if (!identities.length) identities = (await call([["Identity/get", { accountId: state.accountId }]]))["0"].list;
  const src = opts.reply || opts.forward || opts.draft;
  // (an HTML-only message's textBody is its HTML part: quoted as text, not as markup)
  const srcText = src ? (src.textBody ?? []).map((p) => ((v) => (p.type === "text/html" ? htmlText(v) : v))(src.bodyValues?.[p.partId]?.value ?? "")).join("\n") : "";
  const draftHtml = opts.draft ? src.htmlBody?.find((p) => p.type === "text/html" && src.bodyValues?.[p.partId]) : null;
  let to = "";
  let cc = "";
  let subject = "";
  let rest = "";
  const addrOf = (i) => i.email.toLowerCase();
  // From: the identity a reply was addressed to, a draft's own, else the account's
  let ident = identities[0];
  if (opts.draft) {
    to = fmtAddrs(src.to);
    cc = fmtAddrs(src.cc);
    subject = src.subject ?? "";
    ident = identities.find((i) => addrOf(i) === src.from?.[0]?.email?.toLowerCase()) ?? ident;
  } else if (opts.reply) {
    to = fmtAddrs(src.replyTo?.length ? src.replyTo : src.from);
    const others = [...(src.to ?? []), ...(src.cc ?? [])];
    if (opts.all) cc = fmtAddrs(others.filter((a) => a.email.toLowerCase() !== me && !identities.some((i) => addrOf(i) === a.email.toLowerCase())));
    subject = /^re:/i.test(src.subject ?? "") ? src.subject : `Re: ${src.subject ?? ""}`;
    rest = `On ${new Date(src.receivedAt).toLocaleString()}, ${who(src.from)} wrote:\n${quote(srcText)}`;
    ident = identities.find((i) => others.some((a) => a.email.toLowerCase() === addrOf(i))) ?? ident;
  } else if (opts.forward) {
    subject = /^fwd?:/i.test(src.subject ?? "") ? src.subject : `Fwd: ${src.subject ?? ""}`;
    if (!opts.asAttachment) rest = `---------- Forwarded message ----------\nFrom: ${fmtAddrs(src.from)}\nSubject: ${src.subject ?? ""}\n\n${srcText}`;
  }
  // The signature goes under the space for the new text, above a quote (the "-- " line
  // is the usenet/RFC 3676 §4.3 signature separator).
  const sig = sigBlock(ident);
  const body = opts.draft ? srcText : sig || rest ? `\n\n${[sig, rest].filter(Boolean).join("\n\n")}` : "";
  const files = [];
  if (opts.forward && opts.asAttachment)
    files.push({
      blobId: src.blobId,
      name: `${
        (src.subject || "message")
          .replace(/[\\/:*?"<>|]+/g, " ")
          .trim()
          .slice(0, 80) || "message"
      }.eml`,
      type: "message/rfc822",
      size: src.size ?? 0,
    });
  else if (opts.forward) for (const a of src.attachments ?? []) files.push({ blobId: a.blobId, name: a.name, type: a.type, size: a.size });
  const form = el("form", { class: "composer", "aria-label": "Write a message" });
  const fromSel = el(
    "select",
    { id: "c-from", "aria-label": "From" },
    ...identities.map((i) => el("option", { value: i.id, selected: i.id === ident?.id, text: i.name ? `${i.name} <${i.email}>` : i.email })),
  );
  const datalist = el("datalist", { id: "c-contacts" }, ...(await contacts()).map((c) => el("option", { value: c })));
  const field = (label, input) => el("label", { class: "field" }, el("span", { text: label }), input);
  const toIn = el("input", { id: "c-to", type: "text", list: "c-contacts", value: to, autocomplete: "off", "aria-label": "To" });
  const ccIn = el("input", { id: "c-cc", type: "text", list: "c-contacts", value: cc, "aria-label": "Cc" });
  const bccIn = el("input", { id: "c-bcc", type: "text", list: "c-contacts", "aria-label": "Bcc" });
  const subjIn = el("input", { id: "c-subject", type: "text", value: subject, "aria-label": "Subject" });
  const text = el("textarea", { id: "c-body", rows: "14", "aria-label": "Message" });
  text.value = body;
  // Simple rich text (bold, italic, lists, links, quotes): sent as multipart/alternative.
  const rich = el("div", { id: "c-rich", class: "rich", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": "Message", hidden: true });
  const richBar = richToolbar(rich);
  richBar.hidden = true;
  let isRich = false;
  // a rich-text draft resumes as rich text
  let richFrom = draftHtml ? src.bodyValues[draftHtml.partId].value : null;
  const richToggle = el("button", {
    type: "button",
    class: "link",
    id: "c-rich-toggle",
    text: "Rich text",
    onclick: () => {
      isRich = !isRich;
      if (isRich && richFrom !== null) {
        rich.innerHTML = cleanHtml(richFrom);
        richFrom = null;
      } else if (isRich) {
        // the text signature block becomes the identity's HTML signature
        const block = sigBlock(shown);
        const at = block ? text.value.indexOf(block) : -1;
        const html = (t) => {
          const d = textBody(t);
          return d.innerHTML.replace(/\n/g, "<br>");
        };
        if (at >= 0) {
          rich.innerHTML = html(text.value.slice(0, at));
          rich.append(sigElement(shown));
          rich.insertAdjacentHTML("beforeend", html(text.value.slice(at + block.length)));
        } else rich.innerHTML = html(text.value);
      } else text.value = rich.innerText;
      rich.hidden = richBar.hidden = !isRich;
      text.hidden = isRich;
      richToggle.textContent = isRich ? "Plain text" : "Rich text";
    },
  });
  let shown = ident;
  if (richFrom !== null) richToggle.click();
  fromSel.addEventListener("change", () => {
    const next = identities.find((i) => i.id === fromSel.value) ?? identities[0];
    if (isRich) {
      const old = rich.querySelector("[data-signature]");
      if (old) sigBlock(next) ? old.replaceWith(sigElement(next)) : old.remove();
    } else {
      const [a, b] = [sigBlock(shown), sigBlock(next)];
      if (a && text.value.includes(a)) text.value = text.value.replace(a, b);
    }
    shown = next;
  });
  const fileIn = el("input", { type: "file", multiple: true, id: "c-files", "aria-label": "Attach files" });
  const fileList = el("ul", { class: "attachments" });
  const renderFiles = () =>
    fileList.replaceChildren(
      ...files.map((f, i) =>
        el(
          "li",
          {},
          icon("clip"),
          el("span", { text: `${f.name} (${fmtSize(f.size)})${f.progress !== undefined && f.progress < 1 ? ` ${Math.round(f.progress * 100)}%` : ""}` }),
          el("button", { type: "button", class: "link", text: "remove", onclick: () => (files.splice(i, 1), renderFiles()) }),
        ),
      ),
    );
  const addFiles = async (list) => {
    for (const file of list) {
      const f = { name: file.name, type: file.type || "application/octet-stream", size: file.size, progress: 0 };
      files.push(f);
      renderFiles();
      try {
        const r = await upload(state.accountId, file, (p) => ((f.progress = p), renderFiles()));
        f.blobId = r.blobId;
        f.progress = 1;
      } catch (e) {
        files.splice(files.indexOf(f), 1);
        toast(`${file.name}: ${e.message}`, true);
      }
      renderFiles();
    }
  };
  fileIn.addEventListener("change", () => addFiles(fileIn.files));
  form.addEventListener("dragover", (e) => e.preventDefault());
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
  });
  let draftId = opts.draft?.id ?? null;
  const status = el("span", { class: "muted small", role: "status" });
  const buildEmail = (keywords) => {
    const ident = identities.find((i) => i.id === fromSel.value) ?? identities[0];
    const ready = files.filter((f) => f.blobId);
    const email = {
      mailboxIds: { [byRole("drafts")?.id]: true },
      keywords,
      from: [{ name: ident?.name || null, email: ident?.email ?? me }],
      to: parseAddrs(toIn.value),
      subject: subjIn.value,
      // (no-break spaces that editing leaves behind are plain spaces in the text twin)
      // and the signature separator keeps its space (innerText trims it)
      bodyValues: { t: { value: isRich ? rich.innerText.replace(/\u00a0/g, " ").replace(/^--$/m, "-- ") : text.value } },
      textBody: [{ partId: "t", type: "text/plain" }],
    };
    if (isRich) {
      // what was typed, through the same sanitizer as received mail
      email.bodyValues.h = { value: sanitize(rich.innerHTML, { allowRemote: false, cidUrls: new Map() }).html };
      email.htmlBody = [{ partId: "h", type: "text/html" }];
    }
    if (ccIn.value.trim()) email.cc = parseAddrs(ccIn.value);
    if (bccIn.value.trim()) email.bcc = parseAddrs(bccIn.value);
    // the identity's own Reply-To and Bcc (RFC 8621 §6)
    if (ident?.replyTo?.length) email.replyTo = ident.replyTo;
    if (ident?.bcc?.length) email.bcc = [...(email.bcc ?? []), ...ident.bcc];
    if (opts.reply) {
      email.inReplyTo = opts.reply.messageId ?? null;
      email.references = [...(opts.reply.references ?? []), ...(opts.reply.messageId ?? [])];
    }
    if (ready.length) email.attachments = ready.map((f) => ({ blobId: f.blobId, type: f.type, name: f.name, disposition: "attachment" }));
    return { email, ident };
  };
  /** Saves the draft (replacing the previous one); returns the new id. */
  const saveDraft = async () => {
    const { email } = buildEmail({ $draft: true, $seen: true });
    const r = await call([["Email/set", { accountId: state.accountId, create: { d: email }, ...(draftId && { destroy: [draftId] }) }]]);
    const created = r["0"].created?.d;
    if (!created) throw new JmapError(r["0"].notCreated?.d?.type ?? "save", r["0"].notCreated?.d?.description);
    draftId = created.id;
    status.textContent = `Draft saved ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    return draftId;
  };
  let dirty = false;
  form.addEventListener("input", () => (dirty = true));
  const autosave = setInterval(() => {
    if (!dirty || !document.body.contains(form)) return;
    dirty = false;
    saveDraft().catch((e) => (status.textContent = `Draft not saved: ${e.message}`));
  }, 5000);
  const close = () => {
    clearInterval(autosave);
    $("#reader").replaceChildren(el("div", { class: "empty", text: "Select a message to read it." }));
    document.body.classList.remove("reading");
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (files.some((f) => !f.blobId)) return toast("Wait for the attachments to finish uploading.", true);
    if (!parseAddrs(toIn.value).length && !parseAddrs(ccIn.value).length && !parseAddrs(bccIn.value).length) return toast("Add at least one recipient.", true);
    const send = form.querySelector("button[type=submit]");
    send.disabled = true;
    status.textContent = "Sending…";
    try {
      const id = await saveDraft();
      const { ident, email } = buildEmail({});
      const sent = byRole("sent");
      const r = await call([
        [
          "EmailSubmission/set",
          {
            accountId: state.accountId,
            create: { s: { identityId: ident.id, emailId: id } },
            onSuccessUpdateEmail: { "#s": { [`mailboxIds/${byRole("drafts").id}`]: null, ...(sent && { [`mailboxIds/${sent.id}`]: true }), "keywords/$draft": null } },
          },
        ],
      ]);
      const fail = r["0"].notCreated?.s;
      if (fail) throw new JmapError(fail.type, fail.description);
      rememberContacts([...email.to, ...(email.cc ?? []), ...(email.bcc ?? [])].map((a) => a.email));
      sentContacts = null;
      clearInterval(autosave);
      toast("Sent.");
      close();
      refresh();
    } catch (e) {
      // The draft stays in Drafts: nothing typed is lost.
      status.textContent = "";
      toast(`Not sent: ${e.message}. Your message is kept in Drafts.`, true);
      send.disabled = false;
    }
  });
  form.append(
    el(
      "div",
      { class: "tools" },
      el("button", { type: "button", class: "only-phone", text: "← Back", onclick: close }),
      el("h2", { text: opts.reply ? "Reply" : opts.forward ? "Forward" : opts.draft ? "Draft" : "New message" }),
    ),
    identities.length > 1 ? field("From", fromSel) : el("div", { class: "from-line muted small", text: `From: ${identities[0] ? fmtAddrs([identities[0]]) : me}` }),
    field("To", toIn),
    field("Cc", ccIn),
    field("Bcc", bccIn),
    field("Subject", subjIn),
    el("div", { class: "rich-row" }, richBar, richToggle),
    text,
    rich,
    datalist,
    el("div", { class: "attach-row" }, el("label", { class: "button", for: "c-files", text: "Attach files" }), fileIn, el("span", { class: "muted small", text: "or drop them here" })),
    fileList,
    el(
      "div",
      { class: "send-row" },
      el("button", { type: "submit", class: "primary", text: "Send" }),
      el("button", {
        type: "button",
        text: "Save draft",
        onclick: () =>
          saveDraft().then(
            () => refresh(),
            (e) => toast(e.message, true),
          ),
      }),
      el("button", { type: "button", text: "Discard", onclick: async () => (draftId && (await call([["Email/set", { accountId: state.accountId, destroy: [draftId] }]])), close(), refresh()) }),
      status,
    ),
  );
  showPane();
  $("#reader").replaceChildren(form);
  renderFiles();
  (to ? (isRich ? rich : text) : toIn).focus();
}

// ---------- settings: identities and signatures (RFC 8621 §6) ----------

async function identitySettings() {
  const r = await guarded(() => call([["Identity/get", { accountId: state.accountId }]]));
  if (!r) return;
  identities = r["0"].list;
  const cards = identities.map((i) => {
    const name = el("input", { type: "text", id: `id-name-${i.id}`, value: i.name ?? "", placeholder: "Your name as recipients see it" });
    const textSig = el("textarea", { id: `id-text-${i.id}`, rows: "4", "aria-label": `Plain-text signature for ${i.email}` });
    textSig.value = i.textSignature ?? "";
    const htmlSig = el("div", {
      id: `id-html-${i.id}`,
      class: "rich sig-editor",
      contenteditable: "true",
      role: "textbox",
      "aria-multiline": "true",
      "aria-label": `Formatted signature for ${i.email}`,
    });
    htmlSig.innerHTML = cleanHtml(i.htmlSignature ?? "");
    const form = el(
      "form",
      { class: "identity", "data-id": i.id, "aria-label": `Identity ${i.email}` },
      el("h3", {}, el("span", { text: i.email }), i.mayDelete ? null : el("span", { class: "muted small", text: " · your address" })),
      el("label", { class: "field" }, el("span", { text: "Name" }), name),
      el("div", { class: "muted small", text: "Signature in plain-text mail" }),
      textSig,
      el("div", { class: "muted small", text: "Signature in rich-text mail (when empty, the plain one is used)" }),
      richToolbar(htmlSig),
      htmlSig,
      el(
        "div",
        { class: "send-row" },
        el("button", { type: "submit", class: "primary", text: "Save" }),
        i.mayDelete
          ? el("button", {
              type: "button",
              text: "Remove",
              onclick: async () => {
                if (!confirm(`Stop sending as ${i.email}?`)) return;
                if (await guarded(() => call([["Identity/set", { accountId: state.accountId, destroy: [i.id] }]]).then(checkSet("destroyed", i.id)))) identitySettings();
              },
            })
          : null,
      ),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const html = htmlSig.textContent.trim() || htmlSig.querySelector("img") ? cleanHtml(htmlSig.innerHTML) : "";
      const patch = { name: name.value.trim(), textSignature: textSig.value.replace(/\s+$/, ""), htmlSignature: html };
      const res = await guarded(() => call([["Identity/set", { accountId: state.accountId, update: { [i.id]: patch } }]]).then(checkSet("updated", i.id)));
      if (res) {
        Object.assign(i, patch);
        toast(`Saved for ${i.email}.`);
      }
    });
    return form;
  });
  const newEmail = el("input", { type: "text", id: "id-new-email", placeholder: "name@example.com", "aria-label": "Address" });
  const newName = el("input", { type: "text", id: "id-new-name", placeholder: "Name", "aria-label": "Name" });
  const add = el(
    "form",
    { class: "identity add", "aria-label": "Send as another address" },
    el("h3", { text: "Send as another address" }),
    el("p", { class: "muted small", text: "An alias of yours that you may send as (the administrator decides which)." }),
    el("label", { class: "field" }, el("span", { text: "Address" }), newEmail),
    el("label", { class: "field" }, el("span", { text: "Name" }), newName),
    el("div", { class: "send-row" }, el("button", { type: "submit", text: "Add" })),
  );
  add.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await guarded(() =>
      call([["Identity/set", { accountId: state.accountId, create: { n: { email: newEmail.value.trim(), name: newName.value.trim() } } }]]).then(checkSet("created", "n")),
    );
    if (res) {
      toast(`You can now send as ${newEmail.value.trim()}.`);
      identitySettings();
    }
  });
  const page = el(
    "div",
    { class: "composer settings", "aria-label": "Identities and signatures" },
    el(
      "div",
      { class: "tools" },
      el("button", { type: "button", class: "only-phone", text: "← Back", onclick: () => document.body.classList.remove("reading") }),
      el("h2", { text: "Identities and signatures" }),
    ),
    el("p", { class: "muted small", text: "The name and signature new messages start with, for each address you write from." }),
    ...cards,
    add,
  );
  showPane();
  $("#reader").replaceChildren(page);
}

// ---------- settings: vacation reply (RFC 8621 §8) ----------

async function vacationSettings() {
  const r = await guarded(() => call([["VacationResponse/get", { accountId: state.accountId, ids: ["singleton"] }]]));
  if (!r) return;
  const v = r["0"].list[0] ?? { isEnabled: false, subject: "", textBody: "", fromDate: null, toDate: null };
  const on = el("input", { type: "checkbox", id: "v-on", checked: v.isEnabled });
  const subject = el("input", { type: "text", id: "v-subject", value: v.subject ?? "", placeholder: "Away until …" });
  const from = el("input", { type: "date", id: "v-from", value: v.fromDate ? v.fromDate.slice(0, 10) : "" });
  const to = el("input", { type: "date", id: "v-to", value: v.toDate ? v.toDate.slice(0, 10) : "" });
  const body = el("textarea", { id: "v-body", rows: "8" });
  body.value = v.textBody ?? "";
  const form = el(
    "form",
    { class: "composer settings", "aria-label": "Vacation reply" },
    el(
      "div",
      { class: "tools" },
      el("button", { type: "button", class: "only-phone", text: "← Back", onclick: () => document.body.classList.remove("reading") }),
      el("h2", { text: "Vacation reply" }),
    ),
    el("p", { class: "muted small", text: "While it is on, senders get this answer once every few days — never mailing lists, bounces or other automatic replies." }),
    el("label", { class: "check" }, on, el("span", { text: " Send a vacation reply" })),
    el("label", { class: "field" }, el("span", { text: "From" }), from),
    el("label", { class: "field" }, el("span", { text: "Until" }), to),
    el("label", { class: "field" }, el("span", { text: "Subject" }), subject),
    body,
    el(
      "div",
      { class: "send-row" },
      el("button", { type: "submit", class: "primary", text: "Save" }),
      el("a", { class: "button", href: "/account", text: "Password, two-factor login, app passwords" }),
    ),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const patch = {
      isEnabled: on.checked,
      subject: subject.value || null,
      textBody: body.value || null,
      fromDate: from.value ? new Date(`${from.value}T00:00:00`).toISOString() : null,
      toDate: to.value ? new Date(`${to.value}T23:59:59`).toISOString() : null,
    };
    const res = await guarded(() => call([["VacationResponse/set", { accountId: state.accountId, update: { singleton: patch } }]]).then(checkSet("updated", "singleton")));
    if (res) toast(on.checked ? "Vacation reply is on." : "Vacation reply is off.");
  });
  showPane();
  $("#reader").replaceChildren(form);
}

// ---------- live updates, keyboard, start ----------

// Live updates: one refresh at a time; a change during one asks for one more after it.
let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      await loadList(false, true);
    } while (again);
  })().finally(() => (refreshing = null));
  return refreshing;
}

function keys(ev) {
  if (ev.target.closest("input, textarea, select, [contenteditable]") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const i = state.ids.indexOf(state.selected);
  const open = state.open && state.open.id === state.selected ? state.open : null;
  const act = {
    j: () => state.ids[i + 1] && openEmail(state.ids[i + 1]),
    k: () => i > 0 && openEmail(state.ids[i - 1]),
    r: () => open && compose({ reply: open }),
    a: () => open && compose({ reply: open, all: true }),
    f: () => open && compose({ forward: open }),
    c: () => compose(),
    "/": () => $("#q").focus(),
    e: () => open && byRole("archive") && moveTo([open.id], byRole("archive").id).then(() => afterChange([open.id])),
    "#": () => open && remove([open.id]),
  }[ev.key];
  if (act) {
    ev.preventDefault();
    act();
  }
}

async function start() {
  const s = await session();
  state.accountId = s.primaryAccounts["urn:ietf:params:jmap:mail"];
  await loadMailboxes();
  await loadList();
  listen(() => refresh());
  $("#compose").addEventListener("click", () => compose());
  $("#new-folder").addEventListener("click", createFolder);
  $("#vacation").addEventListener("click", vacationSettings);
  $("#identities").addEventListener("click", identitySettings);
  $("#more").addEventListener("click", () => loadList(true));
  $("#menu").addEventListener("click", () => document.body.classList.toggle("show-folders"));
  $("#search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.search = $("#q").value.trim() || null;
    state.selected = null;
    renderFolders();
    loadList();
  });
  $("#bulk").addEventListener("click", (ev) => ev.target.dataset.act && bulk(ev.target.dataset.act));
  $("#move-to").addEventListener("change", async (ev) => {
    const target = ev.target.value;
    ev.target.value = "";
    if (!target || !state.checked.size) return;
    const ids = [...state.checked];
    await moveTo(ids, target);
    toast(`Moved to ${mailboxName(target)}.`);
    afterChange(ids);
  });
  document.addEventListener("keydown", keys);
  document.body.classList.add("ready");
}

start().catch((e) => toast(`Cannot load your mail: ${e.message}`, true));
