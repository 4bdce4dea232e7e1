import { expect, test } from "bun:test";
import { envelopeAligned } from "./known.ts";

test("the envelope domain aligns with the DMARC domain when it is it or below it", () => {
  expect(envelopeAligned("shop.test", "shop.test")).toBe(true);
  expect(envelopeAligned("Bounce.Shop.test.", "shop.test")).toBe(true);
  expect(envelopeAligned("notshop.test", "shop.test")).toBe(false);
  expect(envelopeAligned("other.test", "shop.test")).toBe(false);
  expect(envelopeAligned("", "shop.test")).toBe(false);
});
