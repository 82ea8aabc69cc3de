// Objects coord writes itself (src/git/objects.ts): what is refused before git
// sees it. (That the objects are git's own, checked by git: objects.e2e.test.ts.)
import { describe, expect, it } from "vitest";
import { treeBody } from "../src/git/objects.js";

describe("objects written by coord are git's own", () => {
  it("refuses what is no tree entry", () => {
    expect(() => treeBody(["100644 blob nothex\tx"])).toThrow(/not a tree entry/);
    expect(() => treeBody([`100644 blob ${"a".repeat(40)}\t`])).toThrow(/not a tree entry/);
  });
});
