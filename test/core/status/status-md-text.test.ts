// STATUS.md and COMPUTER_*.md show another machine's words as text (issue 65, item 7): rendered as GitHub would (marked,
// GFM), a sender's Markdown makes no image (a tracking pixel), no link, no HTML and no emphasis of its own.
import { marked } from "marked";
import { describe, expect, it } from "vitest";
import { renderComputer } from "../../../src/core/fleet/computer.js";
import { code, inline, md, table } from "../../../src/core/files/markdown.js";
import { messagePath, renderMessageFile } from "../../../src/core/messages/messages.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { computerFile, repoFiles, statusOf } from "../../fixtures.js";

/** Markdown a sender may write: an image, links of every kind GitHub makes, HTML, emphasis, math, a heading. */
const HOSTILE = [
  "![pixel](https://evil.example/p.png)",
  "[click](https://evil.example/x)",
  "[ref][1] [1]: https://evil.example",
  "<img src=https://evil.example/i.png>",
  "<https://evil.example/auto>",
  "https://evil.example/bare",
  "www.evil.example",
  "mallory@evil.example",
  "mailto:mallory@evil.example",
  "ftp://evil.example/f HTTPS://EVIL.EXAMPLE/u xmpp:m@evil.example WWW.EVIL.EXAMPLE",
  "**bold** _em_ ~~gone~~ `code`",
  "$x^2$",
  "&lt;b&gt;",
  "\\[escaped\\](https://evil.example/esc)",
].join(" ");

/** The HTML marked makes of `markdown` (GFM, as GitHub renders a file). */
const html = (markdown: string) => marked.parse(markdown, { gfm: true, async: false }) as string;

/** The elements of `h` a sender's Markdown must never make. */
const made = (h: string) => [...h.matchAll(/<(img|a|strong|em|del|code|script|b|h[1-6])\b[^>]*>/g)].map((m) => m[0]);

describe("a sender's Markdown in coord's Markdown views is text", () => {
  it.each([
    ["a hostile line", HOSTILE],
    ["a line break in it (U+2028, CR)", `ok\u2028![p](https://evil.example/p.png)\r[l](https://evil.example)`],
    ["a list, a heading, a quote at its start", "# heading"],
    ["a list at its start", "- [x](https://evil.example)"],
    ["a numbered list at its start", "1. item"],
    ["a quote at its start", "> [!NOTE] quoted"],
  ])("inline: %s renders as its own text, nothing made", (_, text) => {
    const h = html(`- ${inline(text)}`);
    expect(made(h)).toEqual([]);
    expect(h).not.toMatch(/<(ul|ol|blockquote|h1)[^>]*>\s*<(ul|ol|blockquote|h1)/);
    // What the reader sees is the text (the line breaks as spaces).
    const seen = h
      .replace(/<[^>]+>/g, "")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&")
      .trim();
    expect(seen).toBe(text.replace(/\r|\u2028/g, " "));
  });

  it("a plain reason stays readable in the file: a colon, a snake_case word, a time", () => {
    expect(inline("ignored: field next_seq at 10:00, see it")).toBe("ignored: field next_seq at 10:00, see it");
  });

  it("a code span and a table cell hold any text; coord's own links stay links", () => {
    expect(made(html(code("`x` ![p](https://evil.example/p.png)")))).toEqual(["<code>"]);
    const t = html(table(["a", "b"], [[HOSTILE, md("[m1](coordination/COMPUTER_m1.md)")]]));
    expect(made(t)).toEqual(['<a href="coordination/COMPUTER_m1.md">']);
  });

  it("STATUS.md: an urgent message's first line in the alerts, a machine's reason and its task's output make no image or link", () => {
    const files = repoFiles(undefined, [
      computerFile("m1", {
        state: "error",
        stateReason: HOSTILE,
        tasks: { t1: { rev: 1, state: "failed", attempts: 1, exitCode: 1, reason: HOSTILE, output: `${HOSTILE}\n\`\`\`\n</details><img src=x>` } },
      } as never),
      computerFile("b"),
    ]);
    files.set(
      messagePath("mallory", "b"),
      renderMessageFile({
        coord: 1,
        from: "mallory",
        to: "b",
        next: 2,
        messages: [{ seq: 1, at: "2025-06-01T10:00:00.000Z", priority: "urgent", text: `${HOSTILE}\nsecond line` }],
      }),
    );
    files.set("coordination/COMPUTER_mallory.md", renderComputer(computerFile("mallory")));
    const status = statusOf(files);
    expect(status.alerts.some((a) => a.kind === "urgent")).toBe(true);
    const md = renderStatusMd(status);
    expect(md).toContain("urgent message");
    const h = html(md);
    const links = [...h.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]!);
    // Only coord's own links (to the machines' files), no image at all.
    expect(
      links.every((l) => l.startsWith("coordination/COMPUTER_")),
      links.join(" "),
    ).toBe(true);
    expect(h).not.toMatch(/<img\b/);
    expect(h).not.toContain('evil.example/p.png"');
    const machine = html(renderComputer(computerFile("m1", { state: "error", stateReason: HOSTILE } as never)));
    expect(machine).not.toMatch(/<img\b|<a href="https?:/);
  });
});
