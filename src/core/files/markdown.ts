// Small helpers for the markdown views coord renders for people on GitHub. Text that comes from elsewhere (a message,
// a name, a reason, a line of output: another machine's words) goes in as text, never as Markdown: no link, image,
// HTML or emphasis of a sender's renders (issue 65, item 7); what a person could not see is escaped (shown.ts).
import { LINE_BREAKS, sanitizeText } from "./shown.js";

/**
 * Markdown that coord itself wrote (a link to a machine's file, a code span), given to `table` as is: everything else
 * a table is given is text (`cell`).
 */
export class Markdown {
  constructor(readonly markdown: string) {}
}

/** Markdown coord wrote: a table keeps it as it is (pipes escaped). */
export const md = (markdown: string): Markdown => new Markdown(markdown);

/**
 * Text on one line, shown as text anywhere in a markdown body: every line break a space, what nobody can see escaped,
 * HTML neutralised, and every character that could start Markdown backslash-escaped (CommonMark shows `\x` as `x`
 * for any ASCII punctuation x): links and images ([ ] !), emphasis (* ~, and _ but inside a word), code (`), math ($), autolinks (< >, and
 * GitHub's bare ones: the colon of a scheme, www., @), and a list, heading or quote at its start.
 */
export function inline(value: unknown): string {
  if (value === undefined || value === null) return "";
  return (
    sanitizeText(String(value).replace(LINE_BREAKS, " "))
      .replace(/[\\`*[\]!~$@|]/g, "\\$&")
      // An underscore inside a word starts no emphasis: snake_case stays as it is.
      .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, "\\_")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      // A scheme's colon (https://, mailto:, xmpp:): GitHub links a bare URL.
      .replace(/([A-Za-z]):(?=\/\/)|(mailto|xmpp):/gi, (m) => `${m.slice(0, -1)}\\:`)
      .replace(/(www)\./gi, "$1\\.")
      .replace(/^(\s*)([#+=-])/, "$1\\$2")
      .replace(/^(\s*\d+)([.)])/, "$1\\$2")
  );
}

/** A code span (a path, a name): one line, what nobody can see escaped, a backtick a quote (it cannot end the span). */
export function code(value: unknown): string {
  return `\`${sanitizeText(String(value).replace(LINE_BREAKS, " ")).replace(/`/g, "'")}\``;
}

/** A table cell: text as `inline` shows it (or coord's own Markdown, `md`), one line, pipes escaped. */
export function cell(value: unknown): string {
  if (value instanceof Markdown) return value.markdown.replace(LINE_BREAKS, " ").replace(/\|/g, "\\|");
  return inline(value).replace(/(?<!\\)\|/g, "\\|");
}

export function table(head: string[], rows: unknown[][]): string {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

/** A fenced code block that cannot be closed early by backticks in `text`; what nobody can see, escaped. */
export function fence(text: string, lang = "text"): string {
  const shown = sanitizeText(text);
  const longest = Math.max(2, ...[...shown.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${shown.replace(/\n$/, "")}\n${ticks}`;
}

/** The anchor GitHub gives a heading (as github-slugger does for ASCII text): lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}
