import { expect, test } from "bun:test";
import { reasonClass } from "./metrics.ts";

test("delivery errors fall into a few reason classes", () => {
  expect(reasonClass("550 5.1.1 no such user")).toBe("smtp_5xx");
  expect(reasonClass("451 4.7.1 greylisted")).toBe("smtp_4xx");
  expect(reasonClass("connect ECONNREFUSED 192.0.2.1:25")).toBe("connection");
  expect(reasonClass("querySrv ENOTFOUND example.invalid")).toBe("dns");
  expect(reasonClass("MTA-STS policy enforce: certificate not valid")).toBe("tls");
  expect(reasonClass("something odd")).toBe("other");
});
