import { expect, test } from "bun:test";
import { parseRawHeader } from "./header.ts";
import { receivedFromOutside } from "./outbound.ts";

const fields = (s: string) => parseRawHeader(Buffer.from(s + "\r\nbody\r\n")).fields;
const rcv = (proto: string, by = "mx.example.test") =>
  `Received: from x (x [127.0.0.1])\r\n\tby ${by} (kotakpos) with ${proto} id t1;\r\n\tSun, 22 Nov 2026 02:40:46 +0000\r\nFrom: a@example.test\r\n`;

test("our topmost Received tells submitted (ESMTPSA/ESMTPA) from received (ESMTP/ESMTPS/SMTP) mail", () => {
  expect(receivedFromOutside(fields(rcv("ESMTPSA")), "mx.example.test")).toBe(false);
  expect(receivedFromOutside(fields(rcv("UTF8SMTPA")), "mx.example.test")).toBe(false);
  expect(receivedFromOutside(fields(rcv("ESMTPS")), "mx.example.test")).toBe(true);
  expect(receivedFromOutside(fields(rcv("SMTP")), "mx.example.test")).toBe(true);
  // Not ours on top (or none: a bounce we made): not "from outside".
  expect(receivedFromOutside(fields(rcv("ESMTP", "other.test")), "mx.example.test")).toBe(false);
  expect(receivedFromOutside(fields("From: a@example.test\r\n"), "mx.example.test")).toBe(false);
});
