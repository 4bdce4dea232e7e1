// RFC 4978 COMPRESS DEFLATE: tagged OK uncompressed, then raw deflate both ways.
import { AUTHED, bad, no, type CommandSpec } from "../command.ts";

export const compress: CommandSpec = {
  name: "COMPRESS",
  states: AUTHED,
  async run(s, c) {
    const alg = c.args.atom().toUpperCase();
    c.args.end();
    if (alg !== "DEFLATE") return bad("Unknown compression algorithm");
    if (s.compressed) return no("Compression already active", "COMPRESSIONACTIVE");
    s.send(`${c.tag} OK DEFLATE active`);
    s.flush();
    s.startCompression();
    return null;
  },
};
