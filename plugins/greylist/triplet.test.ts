import { expect, test } from "bun:test";
import { clientNet, senderKey } from "./triplet.ts";

test("client networks and stable sender keys", () => {
  expect(clientNet("192.0.2.77")).toBe("192.0.2.0/24");
  expect(clientNet("::ffff:192.0.2.77")).toBe("192.0.2.0/24");
  expect(clientNet("2001:db8:0:12::5")).toBe("2001:db8:0:12::/64");
  expect(senderKey("Bob@Example.org")).toBe("bob@example.org");
  expect(senderKey("bounces+12345-abcdef0123@list.example")).toBe("*@list.example");
  expect(senderKey("SRS0=abcd=xy=example.com=bob@fwd.example")).toBe("*@fwd.example");
});
