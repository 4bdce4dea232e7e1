// A small raw IMAP client for the benchmarks: literals skipped by count, so bodies never
// confuse it (scripts/bench/imap.ts, scripts/bench/jmap.ts).
import * as net from "node:net";

export class Client {
  private buf: Buffer = Buffer.alloc(0);
  private n = 0;
  private want: { tag: string; resolve: (s: string) => void; reject: (e: Error) => void } | null = null;
  private greeted: Promise<void>;
  private onGreet!: () => void;
  private literalLeft = 0;
  private lines: string[] = [];
  constructor(private sock: net.Socket) {
    sock.setNoDelay(true);
    this.greeted = new Promise((r) => (this.onGreet = r));
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("error", (e) => this.want?.reject(e));
    sock.on("close", () => this.want?.reject(new Error("closed")));
  }
  static async open(port: number): Promise<Client> {
    const sock = net.connect(port, "127.0.0.1");
    await new Promise<void>((res, rej) => sock.once("connect", res).once("error", rej));
    const c = new Client(sock);
    await c.greeted;
    return c;
  }
  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buf.length);
        this.buf = this.buf.subarray(take);
        this.literalLeft -= take;
        if (this.literalLeft > 0) return;
      }
      const i = this.buf.indexOf("\r\n");
      if (i < 0) return;
      const line = this.buf.subarray(0, i).toString("latin1");
      this.buf = this.buf.subarray(i + 2);
      const lit = /\{(\d+)\}$/.exec(line);
      if (lit) this.literalLeft = Number(lit[1]);
      if (line.startsWith("* OK") && this.n === 0 && !this.want) {
        this.onGreet();
        continue;
      }
      if (this.want && line.startsWith("+ ")) continue;
      this.lines.push(line);
      if (this.want && line.startsWith(this.want.tag + " ")) {
        const w = this.want;
        this.want = null;
        const all = this.lines.join("\n");
        this.lines = [];
        if (!line.startsWith(w.tag + " OK")) w.reject(new Error(line));
        else w.resolve(all);
      }
    }
  }
  cmd(command: string): Promise<string> {
    const tag = `a${++this.n}`;
    return new Promise((resolve, reject) => {
      this.want = { tag, resolve, reject };
      this.sock.write(`${tag} ${command}\r\n`);
    });
  }
  /** Sends a command and waits for a continuation "+" (IDLE). */
  async idle(): Promise<void> {
    const tag = `a${++this.n}`;
    const seen = new Promise<void>((res) => {
      const onData = (d: Buffer) => {
        if (d.toString("latin1").includes("+ ")) {
          this.sock.off("data", onData);
          res();
        }
      };
      this.sock.on("data", onData);
    });
    this.want = { tag, resolve: () => {}, reject: () => {} };
    this.sock.write(`${tag} IDLE\r\n`);
    await seen;
  }
  close(): void {
    this.sock.destroy();
  }
}
