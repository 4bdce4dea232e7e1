import { describe, expect, test } from "bun:test";
import { parseStructure } from "../../core/mime/index.ts";
import { decodeQP } from "../../core/mime/decode.ts";
import { binaryBytes, filterHeader, findPart, parseSection, sectionBytes } from "./sections.ts";

const raw = Buffer.from(
  [
    "Subject: outer",
    "From: a@b.test",
    "Content-Type: multipart/mixed; boundary=XX",
    "",
    "--XX",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "caf=C3=A9 =",
    "ok",
    "--XX",
    "Content-Type: message/rfc822",
    "",
    "Subject: inner",
    "X-Long: a",
    " b",
    "",
    "inner body",
    "--XX--",
    "",
  ].join("\r\n"),
);

describe("sections", () => {
  test("parseSection", () => {
    expect(parseSection("")).toEqual({ path: [], spec: "", fields: [] });
    expect(parseSection("1.2.MIME")).toEqual({ path: [1, 2], spec: "MIME", fields: [] });
    expect(parseSection('HEADER.FIELDS (Subject "From")')).toEqual({ path: [], spec: "HEADER.FIELDS", fields: ["Subject", "From"] });
    for (const bad of ["0", "MIME", "1.", "HEADER.FIELDS", "TEXT (A)", "1.FOO"]) expect(() => parseSection(bad)).toThrow();
  });

  test("slices from stored offsets", async () => {
    const structure = parseStructure(raw);
    const s = (x: string) => {
      const b = sectionBytes(structure, raw, parseSection(x));
      return b === null ? null : Buffer.from(b).toString();
    };
    expect(s("HEADER")).toBe("Subject: outer\r\nFrom: a@b.test\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n");
    expect(s("1")).toBe("caf=C3=A9 =\r\nok");
    expect(s("2.HEADER")).toBe("Subject: inner\r\nX-Long: a\r\n b\r\n\r\n");
    expect(s("2.TEXT")).toBe("inner body");
    expect(s("2.1")).toBe("inner body");
    expect(s("1.MIME")).toBe("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    expect(s("3")).toBeNull();
    expect(s("1.HEADER")).toBeNull();
    expect(s("2.HEADER.FIELDS.NOT (subject)")).toBe("X-Long: a\r\n b\r\n\r\n");
    expect(findPart(structure, [2, 1])?.type).toBe("text");
    const bin = binaryBytes(structure, raw, parseSection("1"));
    expect(Buffer.from(bin as Uint8Array).toString()).toBe("café ok");
  });

  test("header filter and quoted-printable", () => {
    expect(Buffer.from(filterHeader(Buffer.from("A: 1\r\nB: 2\r\n\tcont\r\n\r\n"), ["b"], false)).toString()).toBe("B: 2\r\n\tcont\r\n\r\n");
    expect(Buffer.from(decodeQP(Buffer.from("a=3D=\r\nb=ZZ"))).toString()).toBe("a=b=ZZ");
    // RFC 2045 §6.7 rules 3 and 5: trailing whitespace is padding; "=" then whitespace then
    // CRLF is a soft break.
    expect(Buffer.from(decodeQP(Buffer.from("a b \t\r\nc= \t\r\nd \r\n"))).toString()).toBe("a b\r\ncd\r\n");
  });
});
