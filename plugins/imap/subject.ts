// RFC 5256 §2.1 base subject: the subject without "Re:", "Fwd:", "[list]" leaders and
// "(fwd)" trailers, for SORT SUBJECT and THREAD. Input is the decoded Subject.
const TRAILER = /(\s|\(fwd\))+$/i;
const BLOB = /^\[[^\[\]]*\]\s*/;
const LEADER = /^(re|fwd?)\s*(\[[^\[\]]*\]\s*)?:\s*/i;

export function baseSubject(subject: string): { base: string; reply: boolean } {
  let s = subject.replace(/\s+/g, " ").trim();
  let reply = false;
  for (;;) {
    const before = s;
    s = s.replace(TRAILER, "");
    // (2) leaders and blobs, as long as something remains.
    for (;;) {
      const b = s;
      const m = LEADER.exec(s);
      if (m) {
        s = s.slice(m[0].length);
        reply = true;
      }
      const blob = BLOB.exec(s);
      if (blob && s.length > blob[0].length) s = s.slice(blob[0].length);
      if (s === b) break;
    }
    // (4) "[fwd: … ]" wrappers.
    const fw = /^\[fwd:\s*(.*)\]$/i.exec(s);
    if (fw) {
      s = fw[1]!.trim();
      reply = true;
    }
    if (s === before) break;
  }
  return { base: s.toLowerCase(), reply };
}
