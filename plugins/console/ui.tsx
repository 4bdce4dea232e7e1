/** @jsxImportSource hono/jsx */
// Server-rendered page parts (hono/jsx): the frame, status pills, check cards, forms.
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { CheckResult, Status } from "./checks.ts";

export interface Viewer {
  address: string;
  admin: boolean;
}

const LOGO = (
  <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
    <rect x="3" y="5" width="18" height="14" rx="2" />
    <path d="m3 7 9 6 9-6" />
  </svg>
);

const ADMIN_NAV: [string, string][] = [
  ["/admin", "Dashboard"],
  ["/admin/domains", "Domains"],
  ["/admin/accounts", "Accounts"],
  ["/admin/aliases", "Aliases"],
  ["/admin/queue", "Queue"],
  ["/admin/activity", "Deliveries"],
  ["/admin/tls", "TLS"],
  ["/admin/health", "Health"],
];

export function Page(p: { title: string; viewer?: Viewer; csrf?: string; path?: string; narrow?: boolean; children: Child }) {
  const nav: [string, string][] = p.viewer ? [...(p.viewer.admin ? ADMIN_NAV : []), ...(p.viewer.admin ? [] : [["/account", "My account"] as [string, string]])] : [];
  const on = (href: string) => (p.path === href || (href !== "/admin" && p.path?.startsWith(href + "/")) ? "on" : "");
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{p.title} · kotakpos</title>
        <link rel="stylesheet" href="/console/console.css" />
        <script src="/console/console.js" defer></script>
      </head>
      <body>
        <header class="top">
          <div class="bar">
            <a class="brand" href={p.viewer ? (p.viewer.admin ? "/admin" : "/account") : "/login"}>
              {LOGO} kotakpos
            </a>
            <nav>
              {nav.map(([href, label]) => (
                <a href={href} class={on(href)}>
                  {label}
                </a>
              ))}
            </nav>
            {p.viewer && (
              <div class="who">
                <a href="/account" title="My account" class={p.path === "/account" ? "on" : ""}>
                  {p.viewer.address}
                </a>
                <form method="post" action="/logout" class="inline">
                  <input type="hidden" name="_csrf" value={p.csrf} />
                  <button type="submit">Log out</button>
                </form>
              </div>
            )}
          </div>
        </header>
        <main class={p.narrow ? "narrow" : ""}>{p.children}</main>
      </body>
      </html>
    </>
  );
}

export const Pill = (p: { status: Status }) => <span class={`pill ${p.status}`}>{{ pass: "pass", warn: "warning", fail: "fail", unknown: "could not check" }[p.status]}</span>;

export const Csrf = (p: { token: string }) => <input type="hidden" name="_csrf" value={p.token} />;

export function Notice(p: { kind: "ok" | "error" | "info"; children: Child }) {
  return <div class={`notice ${p.kind}`} role={p.kind === "error" ? "alert" : "status"}>{p.children}</div>;
}

export function CheckCard(p: { r: CheckResult; copy?: boolean }) {
  const { r } = p;
  return (
    <section class={`card check ${r.status}`} data-check={r.id}>
      <div class="head">
        <h2>{r.title}</h2>
        <Pill status={r.status} />
      </div>
      <p>{r.summary}</p>
      {r.fix && (
        <div class="fix">
          <b>How to fix</b>
          {r.fix}
        </div>
      )}
      {r.items && r.items.length > 0 && r.items.some((i) => i.expected !== undefined) && (
        <div class="scroll">
          <table class="stack">
            <thead>
              <tr>
                <th>Record</th>
                <th>Expected</th>
                <th>Actual</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {r.items.map((i) => (
                <tr>
                  <td data-k="Record">
                    <b class="mono">{i.label}</b>
                    {i.note && <div class="muted small">{i.note}</div>}
                  </td>
                  <td data-k="Expected">
                    <span class="value">{i.expected}</span>
                    {p.copy && i.expected && (
                      <button type="button" class="small secondary" data-copy={i.expected}>
                        Copy
                      </button>
                    )}
                  </td>
                  <td data-k="Actual">
                    <span class="value">{i.actual}</span>
                  </td>
                  <td>
                    <Pill status={i.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {r.items && r.items.length > 0 && !r.items.some((i) => i.expected !== undefined) && (
        <ul class="small">
          {r.items.map((i) => (
            <li>
              <Pill status={i.status} /> {i.label} — {i.note}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export const when = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never");
