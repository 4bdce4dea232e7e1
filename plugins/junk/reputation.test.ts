import { expect, test } from "bun:test";
import { decide, dmarcPassFrom, reputationKey } from "./reputation.ts";

const msg = (ar: string) => Buffer.from(`Authentication-Results: ${ar}\r\nFrom: a@news.shop.example\r\n\r\nbody\r\n`);

test("DMARC pass is read only from our own Authentication-Results", () => {
  expect(dmarcPassFrom(msg("mx.example.test; spf=pass smtp.mailfrom=shop.example; dmarc=pass (p=NONE arc=none) header.from=news.shop.example"), "mx.example.test")).toBe("news.shop.example");
  expect(dmarcPassFrom(msg("evil.test; dmarc=pass header.from=news.shop.example"), "mx.example.test")).toBeNull();
  expect(dmarcPassFrom(msg("mx.example.test; dmarc=fail header.from=news.shop.example"), "mx.example.test")).toBeNull();
  expect(reputationKey("News.Shop.Example.")).toBe("shop.example");
});

test("kept senders are trusted, junked ones junked, mixed ones left to the classifier", () => {
  expect(decide(null)).toBeNull();
  expect(decide({ ham: 0, spam: 1 })).toBe("junk");
  expect(decide({ ham: 1, spam: 0 })).toBeNull();
  expect(decide({ ham: 3, spam: 1 })).toBe("trusted");
  expect(decide({ ham: 3, spam: 2 })).toBeNull();
});
