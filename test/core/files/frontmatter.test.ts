// Front matter (src/core/files/frontmatter.ts): a YAML block at the top of a
// Markdown file, parsed and rendered.
import { describe, expect, it, vi } from "vitest";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { parseFrontMatter, renderFrontMatter } from "../../../src/core/files/frontmatter.js";
import { computerFile } from "../../fixtures.js";

const computer = computerFile;

describe("parseFrontMatter / renderFrontMatter", () => {
  it("round-trips data and body", () => {
    const text = renderFrontMatter({ a: 1, b: "two", c: [1, 2] }, "# Title\n\nbody\n\n\n");
    expect(text).toBe("---\na: 1\nb: two\nc:\n  - 1\n  - 2\n# end of data\n---\n\n# Title\n\nbody\n");
    const doc = parseFrontMatter(text);
    expect(doc.data).toEqual({ a: 1, b: "two", c: [1, 2] });
    expect(doc.body.trim()).toBe("# Title\n\nbody");
  });

  it.each([" \n", "  \n\n", " \t\n", "\n \n", " \n\na", "a\n \n", "\t\n"])("keeps the spaces of a text of blank lines: %j", (text) => {
    // yaml writes " \n" as a block scalar without its indentation indicator and reads back "\n": written quoted instead.
    expect(parseFrontMatter(renderFrontMatter({ text }, "")).data).toEqual({ text });
  });

  it("gives the right data for each text: no stale cache", () => {
    const one = "---\nname: one\n---\nbody\n";
    const two = "---\nname: two\n---\nbody\n";
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
    expect(parseFrontMatter(two).data).toEqual({ name: "two" });
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
    // Mutating a result does not change the next parse of the same text.
    (parseFrontMatter(one).data as { name: string }).name = "changed";
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
  });

  it("same-text COMPUTER files parsed twice give independent objects", () => {
    const text = renderComputer(computer("m"));
    const a = parseComputer(text, "m");
    a.capabilities["os"] = "mutated";
    expect(parseComputer(text, "m").capabilities["os"]).toBe("linux");
  });

  it("uses the YAML core schema: yes/no and dates stay strings", () => {
    const doc = parseFrontMatter("---\na: yes\nb: 2025-06-01\nc: 0o17\nd: ~\n---\n");
    expect(doc.data).toEqual({ a: "yes", b: "2025-06-01", c: 15, d: null });
  });

  it("reads an unknown tag (another tool's !!js/function) as its plain value, with no warning printed", () => {
    // yaml reports an unresolved tag through process.emitWarning, which Node prints to stderr: a machine's cron log or
    // terminal would show a warning for another machine's file at every read.
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      expect(parseFrontMatter("---\na: !!js/function 'function () {}'\nb: !<tag:x> 1\n---\n").data).toEqual({ a: "function () {}", b: "1" });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
