// One persistent SMTP connection of a load generator (smtp.ts, junk.ts): EHLO once, then
// MAIL / RCPT / DATA pipelined per message (RFC 2920), each DATA payload already
// dot-stuffed and ending with the final ".", until `next` returns null; one latency per
// message in ms.
import * as net from "node:net";

export async function smtpConnection(port: number, envelope: Buffer, next: () => Buffer | null, latencies: number[]): Promise<void> {
  const sock = net.connect({ host: "127.0.0.1", port });
  sock.setNoDelay(true);
  let buf = "";
  let want = 0;
  let wake: (() => void) | null = null;
  const finals = () => {
    let n = 0;
    for (let i = buf.indexOf("\r\n"), start = 0; i >= 0; start = i + 2, i = buf.indexOf("\r\n", start)) if (buf[start + 3] === " ") n++;
    return n;
  };
  sock.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    if (wake && finals() >= want) {
      const w = wake;
      wake = null;
      w();
    }
  });
  const closed = new Promise<void>((_, rej) => sock.on("error", rej));
  closed.catch(() => {});
  const expect = async (n: number): Promise<string[]> => {
    want = n;
    if (finals() < n) await Promise.race([new Promise<void>((res) => (wake = res)), closed]);
    const lines = buf.split("\r\n").filter((l) => l[3] === " ");
    buf = "";
    return lines;
  };
  await expect(1);
  sock.write("EHLO bench.test\r\n");
  await expect(1);
  for (let msg = next(); msg; msg = next()) {
    const t0 = performance.now();
    sock.write(envelope);
    const r = await expect(3);
    if (r[2]?.slice(0, 3) !== "354") throw new Error(`envelope refused: ${r.join(" | ")}`);
    sock.write(msg);
    const [done] = await expect(1);
    if (!done?.startsWith("250 ")) throw new Error(`message refused: ${done}`);
    latencies.push(performance.now() - t0);
  }
  sock.write("QUIT\r\n");
  await expect(1);
  sock.end();
}
