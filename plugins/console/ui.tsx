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
  return (
    <div class={`notice ${p.kind}`} role={p.kind === "error" ? "alert" : "status"}>
      {p.children}
    </div>
  );
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

/** A QR code as inline SVG; uqr is loaded on the first one drawn, not at start. */
export async function qrSvg(text: string): Promise<string> {
  const { renderSVG } = await import("uqr");
  return renderSVG(text, { border: 1 });
}

export const when = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never");

/** The outcome of a form, shown at the top of the page it returns to. */
export type Flash = { kind: "ok" | "error"; text: string } | undefined;

export const FlashNotice = (p: { flash?: Flash }) => (p.flash ? <Notice kind={p.flash.kind}>{p.flash.text}</Notice> : null);

/** One column: its heading (also the label of the cell on a phone) and the cell. */
export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  class?: string;
}

/** A list as a table that stacks into labelled rows on a phone; `empty` when no rows. */
export function Table<T>(p: { id?: string; cols: Column<T>[]; rows: readonly T[]; empty?: string }) {
  if (p.rows.length === 0) return p.empty ? <p class="muted">{p.empty}</p> : null;
  return (
    <div class="scroll">
      <table class="stack" id={p.id}>
        <thead>
          <tr>
            {p.cols.map((c) => (
              <th>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr>
              {p.cols.map((c) => (
                <td data-k={c.label || undefined} class={c.class}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A one-button form (with its CSRF token), asking first when `confirm` is given. */
export function PostButton(p: { action: string; csrf: string; label: string; kind?: "primary" | "secondary" | "danger"; small?: boolean; confirm?: string; fields?: Record<string, string> }) {
  const cls = [p.kind === "primary" ? "" : (p.kind ?? "secondary"), p.small === false ? "" : "small"].filter(Boolean).join(" ");
  return (
    <form method="post" action={p.action} class="inline" data-confirm={p.confirm}>
      <Csrf token={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={cls || undefined}>
        {p.label}
      </button>
    </form>
  );
}

/** A labelled text input (the name is the id unless given). */
export function Field(p: {
  id: string;
  label: string;
  name?: string;
  type?: "text" | "password" | "email";
  placeholder?: string;
  value?: string;
  required?: boolean;
  autocomplete?: string;
  inputmode?: "numeric";
}) {
  return (
    <div>
      <label for={p.id}>{p.label}</label>
      <input id={p.id} name={p.name ?? p.id} type={p.type ?? "text"} placeholder={p.placeholder} value={p.value} required={p.required} autocomplete={p.autocomplete} inputmode={p.inputmode} />
    </div>
  );
}

/** A card with a one-row form: its fields side by side (stacked on a phone), then the button. */
export function RowForm(p: { title: string; action: string; csrf: string; submit: string; secondary?: boolean; children: Child }) {
  return (
    <section class="card">
      <h2>{p.title}</h2>
      <form method="post" action={p.action}>
        <Csrf token={p.csrf} />
        <div class="row">
          {p.children}
          <button type="submit" class={p.secondary ? "secondary" : undefined}>
            {p.submit}
          </button>
        </div>
      </form>
    </section>
  );
}

/** "1 try", "3 tries". */
export const tries = (n: number): string => `${n} ${n === 1 ? "try" : "tries"}`;
