// Text of the files that run coord for a person: crontab lines, systemd units,
// launchd plists. Filling {{placeholders}} and quoting one word for each.

/** Plain words need no quoting in a shell, a unit file or a crontab. */
export const PLAIN = /^[A-Za-z0-9_/.,:@+=-]+$/;

/** A template with its {{placeholders}} filled. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (all, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`template placeholder ${all} has no value`);
    return v;
  });
}

/** One word for /bin/sh. */
export function shQuote(s: string): string {
  return PLAIN.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One word of a systemd ExecStart= line (specifiers and variables escaped). */
export function unitWord(s: string): string {
  const word = PLAIN.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  return word.replace(/%/g, "%%").replace(/\$/g, () => "$$");
}

/**
 * One argument of a Windows command line, as programs read it back (CommandLineToArgvW, and Node's own argv): bare
 * when it has no space, tab or quote; else in quotes, a quote inside as \", and backslashes doubled only where a
 * quote follows them (`C:\Program Files\` → `"C:\Program Files\\"`).
 */
export function windowsArg(s: string): string {
  if (s !== "" && !/[\s"]/.test(s)) return s;
  let out = '"';
  let slashes = 0;
  for (const ch of s) {
    if (ch === "\\") {
      slashes++;
      continue;
    }
    if (ch === '"') out += `${"\\".repeat(slashes * 2 + 1)}"`;
    else out += `${"\\".repeat(slashes)}${ch}`;
    slashes = 0;
  }
  return `${out}${"\\".repeat(slashes * 2)}"`;
}

/** Text in an XML element (a plist <string>). */
export function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The lines of a template that are not comments nor blank. */
export function templateLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
}
