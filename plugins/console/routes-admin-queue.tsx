/** @jsxImportSource hono/jsx */
// Admin pages for the outbound queue (the list, and one message: every recipient with its
// tries and the last answer; retry now, bounce, delete) and recent activity: deliveries,
// deferrals and bounces, and the SMTP-time rejections with the reason.
import type { Hono } from "hono";
import type { QueueEntry } from "../../core/spool/types.ts";
import type { Activity } from "./activity.ts";
import { param, type C, type ConsoleCtx, type Env } from "./context.ts";
import { adminFrame, adminPost, asAdmin } from "./routes-login.tsx";
import { size } from "./routes-admin-accounts.tsx";
import { FlashNotice, PostButton, Table, tries, when, type Flash, type Viewer } from "./ui.tsx";

const enc = encodeURIComponent;
const PENDING = new Set(["queued", "deferred", "inflight"]);
const STATUS_PILL: Record<string, string> = { queued: "unknown", inflight: "unknown", deferred: "warn", delivered: "pass", failed: "fail" };

const Status = (p: { q: QueueEntry }) => <span class={`pill ${STATUS_PILL[p.q.status] ?? "unknown"}`}>{p.q.status === "inflight" ? "sending" : p.q.status}</span>;

/** One message per row: its recipients folded together. */
function byMessage(rows: QueueEntry[]): QueueEntry[][] {
  const m = new Map<string, QueueEntry[]>();
  for (const r of rows) m.set(r.id, [...(m.get(r.id) ?? []), r]);
  return [...m.values()];
}

export function queueAdminRoutes(app: Hono<Env>, ctx: ConsoleCtx, activity: Activity): void {
  const { core } = ctx;

  async function queuePage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const messages = byMessage(await core.spool.list());
    return adminFrame(
      c,
      v,
      "Queue",
      "/admin/queue",
      <>
        <h1>Outbound queue</h1>
        <FlashNotice flash={flash} />
        <section class="card">
          <Table
            id="queue"
            rows={messages}
            empty="The queue is empty: every message went out."
            cols={[
              {
                label: "Message",
                cell: (g) => (
                  <>
                    <a class="mono" href={`/admin/queue/${enc(g[0]!.id)}`}>
                      {g[0]!.id}
                    </a>
                    <div class="muted small">from {g[0]!.mailFrom || "<> (a bounce)"}</div>
                  </>
                ),
              },
              { label: "To", cell: (g) => (g.length === 1 ? g[0]!.recipient : `${g[0]!.recipient} and ${g.length - 1} more`) },
              {
                label: "Status",
                cell: (g) => (
                  <>
                    <Status q={g[0]!} /> <span class="small muted">{tries(g[0]!.attempts)}</span>
                    {g[0]!.lastError && <div class="muted small">{g[0]!.lastError}</div>}
                  </>
                ),
              },
              { label: "Next try", cell: (g) => when(Math.min(...g.map((q) => q.nextAttempt))) },
              {
                label: "",
                cell: (g) => (
                  <a class="button small secondary" href={`/admin/queue/${enc(g[0]!.id)}`}>
                    Show
                  </a>
                ),
              },
            ]}
          />
        </section>
      </>,
      status,
    );
  }
  app.get(
    "/admin/queue",
    asAdmin(ctx, (c, v) => queuePage(c, v)),
  );

  async function messagePage(c: C, v: Viewer, flash?: Flash, status: 200 | 400 = 200) {
    const id = param(c, "id");
    const rows = await core.spool.get(id);
    if (rows.length === 0) return queuePage(c, v, flash ?? { kind: "error", text: `No message ${id} in the queue.` }, flash ? status : 400);
    const csrf = c.get("csrf");
    const waiting = rows.filter((r) => r.status === "queued" || r.status === "deferred").length;
    const pending = rows.filter((r) => PENDING.has(r.status)).length;
    const base = `/admin/queue/${enc(id)}`;
    return adminFrame(
      c,
      v,
      `Queue ${id}`,
      "/admin/queue",
      <>
        <p class="small">
          <a href="/admin/queue">← Queue</a>
        </p>
        <h1>
          Message <span class="mono">{id}</span>
        </h1>
        <FlashNotice flash={flash} />
        <section class="card">
          <dl class="settings">
            <dt>From</dt>
            <dd>{rows[0]!.mailFrom || "<> (a bounce)"}</dd>
            <dt>Queued</dt>
            <dd>{when(rows[0]!.createdAt)}</dd>
            <dt>Size</dt>
            <dd>{size(rows[0]!.size)}</dd>
            <dt>Waiting</dt>
            <dd>
              {pending} of {rows.length} recipient(s)
            </dd>
          </dl>
          <div class="actions">
            <PostButton action={`${base}/retry`} csrf={csrf} label="Retry now" kind="primary" small={false} />
            <PostButton action={`${base}/bounce`} csrf={csrf} label="Bounce" small={false} confirm={`Give up on ${waiting} waiting recipient(s)? The sender gets a failure notice.`} />
            <PostButton action={`${base}/delete`} csrf={csrf} label="Delete" kind="danger" small={false} confirm="Delete this message from the queue? Nobody is told." />
          </div>
          <p class="small muted">Retry now: try the waiting recipients at once. Bounce: give up now and tell the sender, as after the last try. Delete: drop the message silently.</p>
        </section>
        <section class="card">
          <h2>Recipients</h2>
          <Table
            id="recipients"
            rows={rows}
            cols={[
              { label: "Recipient", cell: (r) => <b>{r.recipient}</b> },
              { label: "Status", cell: (r) => <Status q={r} /> },
              { label: "Tries", cell: (r) => r.attempts },
              { label: "Next try", cell: (r) => (PENDING.has(r.status) ? when(r.nextAttempt) : "—") },
              { label: "Last answer", cell: (r) => <span class="small">{r.lastError ?? (r.status === "delivered" ? "delivered" : "not tried yet")}</span> },
            ]}
          />
        </section>
      </>,
      status,
    );
  }
  app.get(
    "/admin/queue/:id",
    asAdmin(ctx, (c, v) => messagePage(c, v)),
  );
  adminPost(app, ctx, "/admin/queue/:id/retry", messagePage, async (_f, c) => {
    const n = await core.spool.retry(param(c, "id"));
    return n ? { kind: "ok", text: `${n} recipient(s) will be tried again now.` } : { kind: "error", text: "No recipient of this message is waiting." };
  });
  adminPost(app, ctx, "/admin/queue/:id/bounce", messagePage, async (_f, c) => {
    const n = await core.spool.bounce(param(c, "id"));
    return n
      ? { kind: "ok", text: `Bounced: ${n} recipient(s) given up, the sender was sent a failure notice.` }
      : { kind: "error", text: "No recipient of this message is waiting (one being sent now cannot be bounced)." };
  });
  adminPost(app, ctx, "/admin/queue/:id/delete", queuePage, async (_f, c) => {
    const n = await core.spool.delete(param(c, "id"));
    return n ? { kind: "ok", text: `Deleted ${param(c, "id")} from the queue.` } : { kind: "error", text: "No such message in the queue." };
  });

  // ---- recent deliveries and rejections
  app.get(
    "/admin/activity",
    asAdmin(ctx, (c, v) => {
      const list = activity.recent();
      const rejections = activity.rejections();
      return adminFrame(
        c,
        v,
        "Deliveries",
        "/admin/activity",
        <>
          <h1>Deliveries and rejections</h1>
          <p class="muted small">Since the server started, newest first.</p>
          <section class="card">
            <h2>Outbound deliveries</h2>
            <p class="small muted">Deliveries, retries and bounces, with the receiving server's answer.</p>
            <Table
              id="activity"
              rows={list}
              empty="Nothing delivered since the server started."
              cols={[
                { label: "When", cell: (e) => when(e.at) },
                { label: "Recipient", cell: (e) => e.recipient },
                { label: "Result", cell: (e) => <span class={`pill ${e.kind === "delivered" ? "pass" : e.kind === "deferred" ? "warn" : "fail"}`}>{e.kind}</span> },
                { label: "Reason", cell: (e) => e.detail, class: "small" },
              ]}
            />
          </section>
          <section class="card">
            <h2>Refused at SMTP time</h2>
            <p class="small muted">Connections, senders, recipients and messages our checks refused (unknown users, relaying, blocklists, SPF/DMARC, spam …), with the answer the client got.</p>
            <Table
              id="rejections"
              rows={rejections}
              empty="Nothing refused since the server started."
              cols={[
                { label: "When", cell: (r) => when(r.at) },
                {
                  label: "Client",
                  cell: (r) => (
                    <>
                      <span class="mono">{r.ip}</span>
                      {r.helo && <div class="muted small">{r.helo}</div>}
                    </>
                  ),
                },
                {
                  label: "Mail",
                  cell: (r) => (
                    <span class="small">
                      {r.mailFrom !== undefined && <div>from {r.mailFrom || "<>"}</div>}
                      {r.rcpt && <div>to {r.rcpt}</div>}
                      {r.mailFrom === undefined && !r.rcpt && "—"}
                    </span>
                  ),
                },
                { label: "At", cell: (r) => <span class={`pill ${r.reply.code >= 500 ? "fail" : "warn"}`}>{r.stage.toUpperCase()}</span> },
                {
                  label: "Answer",
                  class: "small",
                  cell: (r) => (
                    <>
                      <span class="mono">
                        {r.reply.code} {r.reply.enhanced ?? ""}
                      </span>{" "}
                      {r.reply.text}
                    </>
                  ),
                },
              ]}
            />
          </section>
        </>,
      );
    }),
  );
}
