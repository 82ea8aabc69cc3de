// Every relative markdown link of the docs resolves: `[x](path)` to a file of the repository, `[x](path#anchor)` and
// `[x](#anchor)` to a heading of that file (GitHub's slugs: lowercase, spaces to "-", punctuation dropped, a repeated
// heading "-1", "-2"…) or an `<a id="…">` of it. So a heading moved or renamed cannot break a link silently.
// Checked: README.md, CHANGELOG.md, DEVELOPERS.md, docs/**/*.md. Links inside code (fenced or inline) are text.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

/** The markdown files the check reads, relative to the repository. */
function docs(): string[] {
  const out = ["README.md", "CHANGELOG.md", "DEVELOPERS.md"].filter((f) => existsSync(join(ROOT, f)));
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) out.push(p);
    }
  };
  walk("docs");
  return out;
}

/** The lines of `text` outside fenced code blocks (CommonMark: a fence of 3 or more ` or ~, closed by one as long). */
function outsideFences(text: string): string[] {
  const out: string[] = [];
  let fence: { char: string; length: number } | undefined;
  for (const line of text.split("\n")) {
    const f = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (f && f[1]![0] === fence.char && f[1]!.length >= fence.length && f[2]!.trim() === "") fence = undefined;
    } else if (f && !(f[1]![0] === "`" && f[2]!.includes("`"))) fence = { char: f[1]![0]!, length: f[1]!.length };
    else out.push(line);
  }
  return out;
}

/** The text without fenced code blocks and inline code spans (what GitHub shows as code links nothing). */
function prose(text: string): string {
  return outsideFences(text)
    .join("\n")
    .replace(/(`+)[^`\n][\s\S]*?\1/g, "");
}

/** GitHub's anchor of a heading's text (github-slugger): lowercase, every character but letters, digits, "_", "-" and spaces dropped, spaces to "-". */
function slug(heading: string): string {
  // Outside code spans `<name>` is an HTML tag, which GitHub drops; inside one it is text.
  const text = heading
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/<[^>]+>/g, "").replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")))
    .join("")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** The anchors of a markdown file: each heading's slug (repeats numbered as GitHub does) and each `<a id>` / `<a name>`. */
function anchorsOf(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of outsideFences(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(a[1]!);
  }
  return out;
}

interface Link {
  file: string;
  target: string;
}

/** The relative links of a markdown file: `[text](target)`, no scheme, no mail. */
function linksOf(file: string, text: string): Link[] {
  const out: Link[] = [];
  for (const m of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    out.push({ file, target });
  }
  return out;
}

/** Why `link` does not resolve, or undefined when it does. */
function brokenWhy(link: Link, texts: Map<string, string>): string | undefined {
  const [path, anchor] = link.target.split("#", 2) as [string, string | undefined];
  const to = path === "" ? link.file : normalize(join(dirname(link.file), decodeURIComponent(path)));
  if (relative(ROOT, join(ROOT, to)).startsWith("..")) return `${to} is outside the repository`;
  if (!texts.has(to) && !existsSync(join(ROOT, to))) return `${to} does not exist`;
  if (anchor === undefined || anchor === "") return undefined;
  if (!to.endsWith(".md") || (!texts.has(to) && statSync(join(ROOT, to)).isDirectory())) return undefined;
  const text = texts.get(to) ?? readFileSync(join(ROOT, to), "utf8");
  return anchorsOf(text).has(anchor) ? undefined : `${to} has no heading or anchor #${anchor}`;
}

describe("the docs' links", () => {
  it("slugs headings as GitHub does", () => {
    expect(slug("The push budget: a fleet within what the host allows")).toBe("the-push-budget-a-fleet-within-what-the-host-allows");
    expect(slug("ORDERS.json")).toBe("ordersjson");
    expect(slug("`COMPUTER_<name>.md`")).toBe("computer_namemd");
    expect(slug("COMPUTER_<name>.md")).toBe("computer_md");
    expect(slug("Messages: `coordination/messages/<from>_TO_<to>.md`")).toBe("messages-coordinationmessagesfrom_to_tomd");
    expect(slug("Rows 16: seconds, not minutes")).toBe("rows-16-seconds-not-minutes");
    expect([...anchorsOf('# A\n## A\n```\n# not\n```\n<a id="x"></a>\n')]).toEqual(["a", "a-1", "x"]);
    // A fence closes only with one as long; a line ` ```json ` in prose opens none.
    expect([...anchorsOf("````md\n```json\n# not\n```\n````\na line ` ```json `\n# B\n")]).toEqual(["b"]);
    expect(prose("[a](x.md)\n```\n[b](y.md)\n```\n`[c](z.md)`")).toBe("[a](x.md)\n");
  });

  it("finds a link to a heading that is gone", () => {
    const texts = new Map([["docs/a.md", "# Here\n[x](#gone) [y](#here)\n"]]);
    const links = linksOf("docs/a.md", texts.get("docs/a.md")!);
    expect(links.map((l) => l.target)).toEqual(["#gone", "#here"]);
    expect(brokenWhy(links[0]!, texts)).toBe("docs/a.md has no heading or anchor #gone");
    expect(brokenWhy(links[1]!, texts)).toBeUndefined();
  });

  it("resolves every relative link of README.md, CHANGELOG.md and docs/ to a file and an anchor", () => {
    const files = docs();
    const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
    const broken: string[] = [];
    for (const f of files)
      for (const link of linksOf(f, texts.get(f)!)) {
        const why = brokenWhy(link, texts);
        if (why) broken.push(`${f}: (${link.target}): ${why}`);
      }
    expect(files.length).toBeGreaterThan(5);
    expect(broken).toEqual([]);
  });
});
