import { expect, test } from "bun:test";
import { tokenize } from "./tokenize.ts";

const msg = (lines: string[]) => Buffer.from(lines.join("\r\n"));

test("headers, decoded bodies, HTML stripped, URLs as domains", () => {
  const html = Buffer.from('<html><body><p>Cheap <b>watches</b> at <a href="http://shop.deals.example/x">our shop</a></p></body></html>').toString("base64");
  const t = tokenize(
    msg([
      "From: Spammer <win@deals.example>",
      "Subject: =?utf-8?q?Gro=C3=9Fe?= savings",
      "Received: from somewhere",
      "X-Spam-Score: 0.999",
      "Content-Type: multipart/alternative; boundary=b",
      "",
      "--b",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "Visit https://www.deals.example/offer now, caf=C3=A9 prices",
      "--b",
      "Content-Type: text/html",
      "Content-Transfer-Encoding: base64",
      "",
      html,
      "--b--",
      "",
    ]),
  );
  for (const x of [
    "subject:große",
    "subject:savings",
    "from:addr:win@deals.example",
    "from:domain:deals.example",
    "url:deals.example",
    "url:www.deals.example",
    "url:shop.deals.example",
    "café",
    "prices",
    "cheap",
    "watches",
    "cheap watches",
    "ct:text/html",
    "hdr:from",
  ]) {
    expect(t.has(x)).toBe(true);
  }
  // Routing headers and our own verdicts are never tokens; tags are gone.
  expect([...t].some((x) => x.startsWith("hdr:received") || x.startsWith("hdr:x-spam-score"))).toBe(false);
  expect(t.has("<b>") || t.has("href")).toBe(false);
});

test("attachments count by type and extension, not content", () => {
  const t = tokenize(
    msg([
      "Content-Type: multipart/mixed; boundary=z",
      "",
      "--z",
      "Content-Type: text/plain",
      "",
      "see attached",
      "--z",
      'Content-Type: application/zip; name="invoice.zip"',
      "Content-Transfer-Encoding: base64",
      "",
      "UEsDBA==",
      "--z--",
      "",
    ]),
  );
  expect(t.has("attach:application/zip")).toBe(true);
  expect(t.has("attach:ext:zip")).toBe(true);
  expect(t.has("attached")).toBe(true);
});
