// The one HTML page of the webmail: the app's shell; everything else is drawn by app.js.
const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function mailPage(p: { address: string; csrf: string; admin: boolean }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${esc(p.csrf)}">
<meta name="account" content="${esc(p.address)}">
<title>Mail · kotakpos</title>
<link rel="stylesheet" href="/mail/assets/mail.css">
<script src="/mail/assets/purify.js"></script>
<script type="module" src="/mail/assets/app.js"></script>
</head>
<body>
<header class="top">
  <button class="icon only-phone" id="menu" aria-label="Folders" title="Folders">☰</button>
  <a class="brand" href="/mail/"><svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/></svg> kotakpos mail</a>
  <form id="search" role="search"><input id="q" type="search" placeholder="Search mail (from: to: subject: has:attachment before: after:)" aria-label="Search mail"></form>
  <nav class="who"><span class="addr">${esc(p.address)}</span> <a href="/account">Settings</a>${p.admin ? ' <a href="/admin">Admin</a>' : ""}
    <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${esc(p.csrf)}"><button type="submit">Log out</button></form></nav>
</header>
<div id="app" class="app">
  <aside id="folders" class="folders" aria-label="Folders"><button id="compose" class="primary">Write</button><ul id="folder-list"></ul><div class="folder-new"><button id="new-folder" class="link">+ New folder</button><button id="identities" class="link">Signatures &amp; identities…</button><button id="vacation" class="link">Vacation reply…</button></div></aside>
  <section id="list" class="list" aria-label="Messages"><div class="list-head"><h2 id="list-title">Inbox</h2><div class="bulk" id="bulk" hidden><button data-act="read">Read</button><button data-act="unread">Unread</button><button data-act="flag">Flag</button><button data-act="junk">Junk</button><select id="move-to" aria-label="Move to"></select><button data-act="delete">Delete</button></div></div><ul id="messages" role="list"></ul><div id="more-wrap"><button id="more" class="link" hidden>Older messages</button></div></section>
  <section id="reader" class="reader" aria-label="Message"><div class="empty">Select a message to read it.</div></section>
</div>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>
`;
}
