// The control socket's wire format: one JSON object per line, each way.
//   request:  {"id": 1, "method": "addDomain", "args": ["example.com"]}
//   response: {"id": 1, "ok": true, "result": …} | {"id": 1, "ok": false, "error": "…"}
// Requests on one connection are answered in order.

/** Longest line accepted either way (a queue listing can be large). */
export const MAX_LINE = 16 * 1024 * 1024;

export interface ControlRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type ControlResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Split a byte stream into lines; calls onLine for each, onOverflow if a line is too long. */
export function lineSplitter(onLine: (line: string) => void, onOverflow: () => void): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
    if (buf.length > MAX_LINE) {
      buf = "";
      onOverflow();
    }
  };
}
