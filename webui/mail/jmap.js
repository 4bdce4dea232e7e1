// A small JMAP client (RFC 8620/8621) for the webmail: the session cookie authenticates,
// the page's CSRF token goes with every request.
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const headers = { "x-csrf-token": csrf };
const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission", "urn:ietf:params:jmap:vacationresponse"];

export class JmapError extends Error {
  constructor(type, description) {
    super(description ? `${type}: ${description}` : type);
    this.type = type;
  }
}

export async function session() {
  const r = await fetch("/jmap/session", { headers, credentials: "same-origin" });
  if (r.status === 401) {
    location.href = "/login?next=%2Fmail%2F";
    throw new JmapError("unauthorized");
  }
  if (!r.ok) throw new JmapError("session", `HTTP ${r.status}`);
  return r.json();
}

/** Call methods in one request: calls = [[name, args], ...]; returns responses by call id
 *  ("0", "1", …), throwing on a method-level error. */
export async function call(calls) {
  const body = { using: USING, methodCalls: calls.map(([name, args], i) => [name, args, String(i)]) };
  const r = await fetch("/jmap/api", { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
  if (r.status === 401) {
    location.href = "/login?next=%2Fmail%2F";
    throw new JmapError("unauthorized");
  }
  const json = await r.json().catch(() => null);
  if (!r.ok || !json) throw new JmapError(json?.type ?? "request", json?.detail ?? `HTTP ${r.status}`);
  const out = {};
  for (const [name, args, id] of json.methodResponses) {
    if (name === "error") throw new JmapError(args.type, args.description);
    out[id] = args;
  }
  return out;
}

export async function upload(accountId, file, onProgress) {
  // XMLHttpRequest for upload progress (fetch has none).
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", `/jmap/upload/${encodeURIComponent(accountId)}/`);
    x.setRequestHeader("x-csrf-token", csrf);
    x.setRequestHeader("content-type", file.type || "application/octet-stream");
    x.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    x.onload = () => (x.status >= 200 && x.status < 300 ? resolve(JSON.parse(x.responseText)) : reject(new JmapError("upload", x.responseText || `HTTP ${x.status}`)));
    x.onerror = () => reject(new JmapError("upload", "network error"));
    x.send(file);
  });
}

export const downloadUrl = (accountId, blobId, name, type) =>
  `/jmap/download/${encodeURIComponent(accountId)}/${encodeURIComponent(blobId)}/${encodeURIComponent(name || "attachment")}?type=${encodeURIComponent(type || "application/octet-stream")}`;

/** Server push (RFC 8620 §7.3): calls onChange on every StateChange. */
export function listen(onChange) {
  let es;
  const open = () => {
    es = new EventSource("/jmap/eventsource?types=*&closeafter=no&ping=30", { withCredentials: true });
    es.addEventListener("state", (e) => onChange(JSON.parse(e.data)));
    es.onerror = () => {
      es.close();
      setTimeout(open, 3000);
    };
  };
  open();
  return () => es?.close();
}
