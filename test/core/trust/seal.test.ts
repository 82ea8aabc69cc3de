// The seal on coord's own local files (src/core/trust/seal.ts): it holds for the text it was made over, under the key
// it was made with, for the file it was made for, and for nothing else.
import { describe, expect, it } from "vitest";
import { sealHolds, sealOf } from "../../../src/core/trust/seal.js";

const key = Buffer.alloc(32, 7);
const other = Buffer.alloc(32, 8);
const text = '{\n  "version": 1,\n  "orders": []\n}\n';
const seal = sealOf(key, "delegated-orders", text);

describe("a seal", () => {
  it("is 64 hex digits, the same for the same key and text", () => {
    expect(seal).toMatch(/^[0-9a-f]{64}$/);
    expect(sealOf(key, "delegated-orders", text)).toBe(seal);
  });

  it.each([
    ["the text it was made over", key, text, seal, true],
    ["another text", key, text.replace("[]", '[{"id":"x"}]'), seal, false],
    ["the text with a byte more", key, `${text} `, seal, false],
    ["another key", other, text, seal, false],
    ["no seal", key, text, undefined, false],
    ["a seal of another shape", key, text, seal.slice(2), false],
    ["a seal in capitals", key, text, seal.toUpperCase(), false],
    ["a number", key, text, 12, false],
    ["the seal of the empty text", key, text, sealOf(key, "delegated-orders", ""), false],
  ])("holds for %s: %s", (_what, k, t, s, want) => {
    expect(sealHolds(k, "delegated-orders", t, s)).toBe(want);
  });
});
