// Repo (src/git/git.ts) is a thin api over one file per job (checkout, remote, read, log, last-change, commit,
// publish, work-tree): its methods hold no logic of their own, and no file of src/git imports it, so that a job's
// code stays in the job's file and git.ts does not grow back into the module that does everything.
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** The lines of `text` (git.ts) from `export class Repo` on that decide, loop, wait or catch: none belongs in a thin api. */
function logicIn(text: string): string[] {
  const start = text.indexOf("export class Repo");
  if (start < 0) return ["no `export class Repo`"];
  return text
    .slice(start)
    .split("\n")
    .filter((line) => /^\s*(if|for|while|switch|try|catch)\b|\bawait\b|=>/.test(line))
    .map((line) => line.trim());
}

/** The files of src/git (by name) that import git.ts. */
async function importersOfGitTs(): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sources(join(SRC, "git"))) {
    if (/from\s+"\.\/git\.js"/.test(await readFile(file, "utf8"))) found.push(basename(file));
  }
  return found;
}

describe("git.ts is a thin api", () => {
  it("Repo's methods only call the function of their job", async () => {
    expect(logicIn(await readFile(join(SRC, "git", "git.ts"), "utf8"))).toEqual([]);
  });

  it("no file of src/git imports git.ts", async () => {
    expect(await importersOfGitTs()).toEqual([]);
  });

  it("the scan finds logic in a method", () => {
    expect(logicIn("export class Repo {\n  fetch() {\n    if (x) return 1;\n  }\n}")).toEqual(["if (x) return 1;"]);
    expect(logicIn("export class Repo {\n  async fetch() {\n    return await fetch(this);\n  }\n}")).toHaveLength(1);
    expect(logicIn("export class Repo {\n  fetch(): Promise<string> {\n    return fetch(this);\n  }\n}")).toEqual([]);
  });
});
