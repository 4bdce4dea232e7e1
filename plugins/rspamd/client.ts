// rspamd's HTTP protocol (https://rspamd.com/doc/developers/protocol.html): POST the
// message to the normal worker's /checkv2 with the envelope in request headers; POST it
// to the controller's /learnspam or /learnham to train rspamd's Bayes.

export interface CheckResult {
  action: string;
  score: number;
  required_score?: number;
  symbols?: Record<string, { name: string; score: number }>;
  messages?: { smtp_message?: string };
}

export interface Envelope {
  ip: string;
  helo: string;
  from: string;
  rcpts: string[];
  queueId: string;
  user?: string;
}

export class RspamdClient {
  constructor(
    private readonly url: string,
    private readonly controllerUrl: string,
    private readonly password: string,
    private readonly timeoutMs: number,
  ) {}

  async check(raw: Uint8Array, env: Envelope, signal?: AbortSignal): Promise<CheckResult> {
    const headers = new Headers({ IP: env.ip.replace(/^::ffff:/i, ""), Helo: env.helo, From: env.from, "Queue-Id": env.queueId });
    if (env.user) headers.set("User", env.user);
    for (const r of env.rcpts) headers.append("Rcpt", r);
    const res = await fetch(new URL("/checkv2", this.url), { method: "POST", headers, body: raw, signal: this.signal(signal) });
    if (!res.ok) throw new Error(`rspamd /checkv2: HTTP ${res.status}`);
    const body = (await res.json()) as CheckResult;
    if (typeof body.action !== "string") throw new Error("rspamd /checkv2: no action in the answer");
    return body;
  }

  /** learn_spam / learn_ham; resolves to rspamd's answer ("already learned" is not an error). */
  async learn(kind: "spam" | "ham", raw: Uint8Array): Promise<{ success: boolean; error?: string }> {
    const headers = new Headers();
    if (this.password) headers.set("Password", this.password);
    const res = await fetch(new URL(kind === "spam" ? "/learnspam" : "/learnham", this.controllerUrl), { method: "POST", headers, body: raw, signal: this.signal() });
    const body = (await res.json().catch(() => ({}))) as { success?: boolean; error?: string };
    if (res.ok && body.success) return { success: true };
    return { success: false, error: body.error ?? `HTTP ${res.status}` };
  }

  private signal(outer?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.timeoutMs);
    return outer ? AbortSignal.any([outer, t]) : t;
  }
}

/** The controller next to the worker: same host, port 11334, unless configured. */
export function controllerOf(url: string, configured: string): string {
  if (configured) return configured;
  const u = new URL(url);
  u.port = "11334";
  return u.toString();
}
