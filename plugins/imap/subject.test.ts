import { expect, test } from "bun:test";
import { baseSubject } from "./subject.ts";

test("RFC 5256 §2.1 base subject", () => {
  expect(baseSubject("Re: Hello")).toEqual({ base: "hello", reply: true });
  expect(baseSubject("RE: [list] Re:  Hello (fwd)")).toEqual({ base: "hello", reply: true });
  expect(baseSubject("Fwd: [list]Hello")).toEqual({ base: "hello", reply: true });
  expect(baseSubject("[Fwd: Re: Hello]")).toEqual({ base: "hello", reply: true });
  expect(baseSubject("Hello   world")).toEqual({ base: "hello world", reply: false });
  expect(baseSubject("[only a blob]")).toEqual({ base: "[only a blob]", reply: false });
  expect(baseSubject("Re:")).toEqual({ base: "", reply: true });
});
