// Markdown (src/core/files/markdown.ts): table cells, tables and fences that hold
// any text without breaking out.
import { describe, it, expect } from "vitest";
import { cell, fence, table } from "../../../src/core/files/markdown.js";

describe("markdown", () => {
  it("cell escapes pipes, newlines and HTML", () => {
    expect(cell("a | b")).toBe("a \\| b");
    expect(cell("one\ntwo\r\nthree")).toBe("one two three");
    expect(cell("<script>alert('x')</script> & co")).toBe("&lt;script&gt;alert('x')&lt;/script&gt; &amp; co");
    expect(cell(undefined)).toBe("");
    expect(cell(null)).toBe("");
    expect(cell("")).toBe("");
    expect(cell(0)).toBe("0");
    expect(cell(false)).toBe("false");
  });

  it("a table has one row per line and as many cells as the header", () => {
    const t = table(
      ["a", "b"],
      [
        ["x|y", "1\n2"],
        [undefined, "<i>"],
      ],
    );
    expect(t).toBe("| a | b |\n|---|---|\n| x\\|y | 1 2 |\n|  | &lt;i&gt; |");
    for (const line of t.split("\n")) expect(line.replace(/\\\|/g, "").split("|").length - 2).toBe(2);
  });

  it("fence survives text containing ``` and ````", () => {
    const cases = ["plain", "```\ninside\n```", "````\nmore\n````", "a ` b `` c", "ends with ```", ""];
    for (const text of cases) {
      const f = fence(text);
      const opener = /^(`+)text\n/.exec(f)![1]!;
      const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
      expect(opener.length, text).toBeGreaterThan(longest);
      expect(opener.length, text).toBeGreaterThanOrEqual(3);
      expect(f.endsWith("\n" + opener), text).toBe(true);
      // The fence closes only at the end: no inner line is a closing fence.
      const inner = f.split("\n").slice(1, -1);
      for (const line of inner) expect(line.trim().startsWith(opener) && line.trim() === opener, text).toBe(false);
    }
    expect(fence("x\n")).toBe("```text\nx\n```");
    expect(fence("x", "json")).toBe("```json\nx\n```");
  });
});
