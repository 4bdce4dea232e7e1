import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { classify, parseRua, reportJson, reportMail } from "./tlsrpt.ts";

test("delivery errors are sorted into RFC 8460 result types", () => {
  expect(
    classify(
      "no host of b.test took the connection: mx.b.test[127.0.0.2]: MTA-STS policy of b.test requires a valid certificate: certificate not signed by a trusted CA (self-signed or unknown issuer) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)",
    ),
  ).toEqual({ type: "certificate-not-trusted", mx: "mx.b.test" });
  expect(classify("mx.b.test[127.0.0.1]: TLS required by MTA-STS policy of b.test but STARTTLS not offered")).toEqual({ type: "starttls-not-supported", mx: "mx.b.test" });
  expect(classify("mx.b.test[127.0.0.1]: MTA-STS policy of b.test requires a valid certificate: certificate not valid for the host name (x)")?.type).toBe("certificate-host-mismatch");
  expect(classify("connect to 127.0.0.1:25: ECONNREFUSED")).toBeUndefined();
});

test("rua URIs of a _smtp._tls record", () => {
  expect(parseRua(["v=TLSRPTv1; rua=mailto:tls@b.test,https://r.example/tlsrpt"])).toEqual(["mailto:tls@b.test", "https://r.example/tlsrpt"]);
  expect(parseRua(["v=spf1 -all"])).toEqual([]);
  expect(parseRua(["v=TLSRPTv1; rua=ftp://x"])).toEqual([]);
});

test("the report JSON (§4.4) and mail (§5.3)", () => {
  const json = reportJson({
    domain: "b.test",
    day: "2026-12-03",
    submitter: "mx.a.test",
    reportId: "r1@mx.a.test",
    agg: {
      policyType: "sts",
      policyString: ["version: STSv1", "mode: enforce", "mx: mx.b.test", "max_age: 604800"],
      mx: ["mx.b.test"],
      success: 2,
      failures: { "certificate-not-trusted mx.b.test": 1 },
    },
  });
  expect(json).toMatchObject({
    "date-range": { "start-datetime": "2026-12-03T00:00:00Z" },
    policies: [
      {
        summary: { "total-successful-session-count": 2, "total-failure-session-count": 1 },
        "failure-details": [{ "result-type": "certificate-not-trusted", "receiving-mx-hostname": "mx.b.test", "failed-session-count": 1 }],
      },
    ],
  });
  const { raw, gz } = reportMail({ domain: "b.test", day: "2026-12-03", submitter: "mx.a.test", reportId: "r1@mx.a.test", to: "tls@b.test", json, now: 0 });
  const text = new TextDecoder().decode(raw);
  expect(text).toContain("TLS-Report-Domain: b.test\r\n");
  expect(text).toContain('multipart/report; report-type="tlsrpt"');
  expect(text).toContain("Content-Type: application/tlsrpt+gzip");
  expect(JSON.parse(gunzipSync(gz).toString())).toEqual(json);
  expect(text.split("\r\n").every((l) => l.length <= 998)).toBe(true);
});
