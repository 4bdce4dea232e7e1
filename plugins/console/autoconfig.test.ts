import { expect, test } from "bun:test";
import { autodiscoverXml, mobileconfig, thunderbirdXml } from "./autoconfig.ts";

const s = { address: 'a&"b@example.com', host: "mx.example.com", imaps: 993, pop3s: 995, submissions: 465, submission: 587 };

test("the XML answers escape what they echo and name every port", () => {
  const tb = thunderbirdXml("ex<ample.com", s);
  expect(tb).toContain("ex&#60;ample.com");
  for (const p of [993, 995, 465, 587]) expect(tb).toContain(`<port>${p}</port>`);
  expect(autodiscoverXml(s)).toContain("<LoginName>a&#38;&#34;b@example.com</LoginName>");
  expect(mobileconfig(s)).toContain("<string>com.apple.mail.managed</string>");
});
