// The CLI as a user meets it: help with examples and the exit codes, in this
// process; the example tree kept in coordination/. (Exit codes of real
// commands, the demo: cli.e2e.test.ts.)
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readModel } from "../src/core/repo/repo.js";
import { deriveStatus, renderStatusJson } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { cli } from "./helpers.js";

describe("coord --help", () => {
  it.each([
    [[]],
    [["hub", "create"]],
    [["init"]],
    [["sync"]],
    [["status"]],
    [["validate"]],
    [["demo"]],
    [["services"]],
    [["logs"]],
    [["mcp"]],
    [["agent", "install"]],
    [["agent", "uninstall"]],
  ])("%j has a description and examples", async (words) => {
    const r = await cli(...words, "--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: coord/);
    expect(r.out).toMatch(/Examples:\n {2}\$ coord /);
  });

  it("documents the exit codes", async () => {
    const r = await cli("sync", "--help");
    for (const code of [
      "0  done",
      "1  could not reach",
      "2  bad usage",
      "3  ORDERS.json is invalid (validate: the problems are printed; sync: it synced, but started no new task)",
    ])
      expect(r.out).toContain(code);
  });
});

describe("on call, as a new user reads it (issue 58, finding 14)", () => {
  it("agent on-call --help: its own exit codes (none about sync), and examples with --dir", async () => {
    const r = await cli("agent", "on-call", "--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("2  bad usage: a setting refused (nothing changed)");
    expect(r.out).not.toMatch(/sync: |ORDERS\.json/);
    for (const line of r.out.split("\n").filter((l) => l.includes("$ coord agent on-call"))) expect(line).toContain("--dir ~/fleet");
  });
  it('send worker "-p": one sentence that says to put the text after --, not the whole help', async () => {
    const r = await cli("send", "worker", "-p");
    expect(r.code).toBe(2);
    expect(r.err).toBe('coord: unknown option -p; a text that begins with "-" goes after --: coord send <to> -- "-p" (coord send --help lists the options)');
    expect(r.out).toBe("");
  });
});

describe("coordination/ (the example tree the demo produces)", () => {
  it("is a valid coordination tree whose derived files match its inputs", async () => {
    const root = join(import.meta.dirname, "..", "coordination");
    const files = new Map<string, string>();
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) {
        const path = join(entry.parentPath, entry.name);
        files.set(path.slice(root.length + 1), await readFile(path, "utf8"));
      }
    const model = readModel(files);
    expect(model.ordersProblems).toEqual([]);
    expect(model.fileProblems).toEqual([]);
    expect([...model.computers.keys()].sort()).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    const status = deriveStatus(model);
    expect(files.get("STATUS.json")).toBe(renderStatusJson(status));
    expect(files.get("STATUS.md")).toBe(renderStatusMd(status));
  });
});
