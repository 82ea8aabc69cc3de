// Small helpers for the markdown views coord renders for people on GitHub.

/** Text on one line with HTML neutralised, safe anywhere in a markdown body. */
export function inline(value: unknown): string {
  if (value === undefined || value === null) return "";
  return String(value).replace(/\r?\n/g, " ").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A code span (a path, a name): a backtick in it becomes a quote, so that it cannot end the span. */
export function code(value: unknown): string {
  return `\`${String(value).replace(/`/g, "'")}\``;
}

/** A table cell: one line, pipes escaped, HTML neutralised. */
export function cell(value: unknown): string {
  return inline(value).replace(/\|/g, "\\|");
}

export function table(head: string[], rows: unknown[][]): string {
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

/** A fenced code block that cannot be closed early by backticks in `text`. */
export function fence(text: string, lang = "text"): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text.replace(/\n$/, "")}\n${ticks}`;
}

/** The anchor GitHub gives a heading (as github-slugger does for ASCII text): lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}
