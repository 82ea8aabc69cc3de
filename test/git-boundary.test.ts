// All git goes through src/git: there its calls get coord's environment rules
// (the user's ssh command with BatchMode added, the credential proxy, no
// prompt, redaction) and a deadline. A scan of the sources keeps it so.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** What only src/git may do, each with what to do instead. */
const FORBIDDEN: { what: string; pattern: RegExp }[] = [
  { what: "imports simple-git", pattern: /from\s+["']simple-git["']|import\(\s*["']simple-git["']\s*\)/ },
  { what: "calls gitClient(", pattern: /\bgitClient\s*\(/ },
  { what: "runs a raw git command (.raw()", pattern: /\.raw\s*\(/ },
  { what: "uses a Repo's simple-git client (.git()", pattern: /\.git\s*\(/ },
  { what: "starts git as a process", pattern: /\b(spawn|spawnSync|execFile|execFileSync|exec|execSync)\s*\(\s*["'`]git\b/ },
  { what: 'starts git as a process (through a wrapper: "git" and its arguments)', pattern: /["'`]git["'`]\s*,\s*\[/ },
];

/** `file:line: what` for each forbidden use in `text`. */
function violations(file: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const f of FORBIDDEN) if (f.pattern.test(line)) found.push(`${file}:${i + 1}: ${f.what}: ${line.trim()}`);
  });
  return found;
}

describe("all git goes through src/git", () => {
  it("no file outside src/git imports simple-git, calls gitClient, runs raw git or starts git", async () => {
    const files = await sources(SRC);
    expect(files.length).toBeGreaterThan(20);
    const outside = files.filter((f) => !relative(SRC, f).startsWith(`git/`));
    const found: string[] = [];
    for (const f of outside) found.push(...violations(relative(SRC, f), await readFile(f, "utf8")));
    expect(found, "move these into a named function of src/git (src/git/local.ts for a directory, a Repo method for a checkout)").toEqual([]);
  });

  it("the scan finds each kind of call it forbids", () => {
    const samples = [
      'import { simpleGit } from "simple-git";',
      "await gitClient(dir).raw(['status']);",
      "await repo.git().log();",
      "const out = execFileSync(\"git\", ['config', '--get', 'x']);",
      "spawn('git', ['fetch']);",
      'await run("git", ["rev-parse", "--show-toplevel"], { cwd });',
    ];
    for (const s of samples) expect(violations("x.ts", s), s).not.toEqual([]);
    expect(violations("x.ts", 'const p = join(dir, ".git"); spawn(file, args);')).toEqual([]);
  });
});
