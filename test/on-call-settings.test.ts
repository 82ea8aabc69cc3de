// The onCall: block of machine.yaml (src/state/on-call.ts): read apart from
// the rest of the config, so a broken block is its own problem, named by its
// line, and never stops the machine.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, saveConfig } from "../src/state/config.js";
import { loadOnCall, parseOnCall } from "../src/state/on-call.js";
import { tempDir } from "./helpers.js";

describe("parseOnCall", () => {
  it("takes the defaults: read-only, 30 minutes, 2 at once, 10 minutes for an approval, no tool allowed always", () => {
    expect(parseOnCall({ agent: "claude", cwd: "~/dev", from: ["izzit7"] })).toEqual({
      settings: { agent: "claude", cwd: "~/dev", from: ["izzit7"], permissions: "read-only", timeout: 1800, maxParallel: 2, approvalTimeout: 600, allowTools: [] },
    });
  });
  it.each([
    [{ agent: "aider", cwd: "/x", from: "ALL" }, "field onCall.agent is not an agent CLI coord can put on call; write one of claude, codex, opencode, cursor, gemini"],
    [{ agent: "claude", cwd: "/x" }, "field onCall.from must be a list of machine names, or ALL"],
    [{ agent: "claude", cwd: "/x", from: [] }, "field onCall.from is empty; name the machines whose messages start turns, or ALL"],
    [{ agent: "claude", cwd: "/x", from: ["Bad Name"] }, "field onCall.from.0 is not a machine name"],
    [{ agent: "cursor", cwd: "/x", from: "ALL", permissions: "edit" }, expect.stringMatching(/^field onCall\.permissions: cursor cannot run with permissions "edit"/)],
    [{ agent: "claude", cwd: "/x", from: "ALL", timeout: "2d" }, 'field onCall.timeout "2d" is not a duration up to 1d; write it like "90s", "15m" or "2h"'],
    [{ agent: "claude", cwd: "/x", from: "ALL", color: "red" }, 'unknown field "onCall.color"; remove it or fix its name'],
    [{ agent: "claude", cwd: "/x", from: "ALL", allowTools: ["rm -rf"] }, "field onCall.allowTools.0 is not a tool name (like Bash, Write or mcp__server__tool)"],
  ])("%j is refused", (value, problem) => {
    expect(parseOnCall(value)).toMatchObject({ problem });
  });
});

describe("loadOnCall", () => {
  it("names the line of a broken block, and the rest of the config still loads", async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "machine.yaml"), "name: soda-yeti\nuuid: u-1\nonCall:\n  agent: claude\n  cwd: /tmp\n  from: [izzit7]\n  maxTurns: -1\n");
    expect(await loadOnCall(dir)).toEqual({ problem: expect.stringMatching(/machine\.yaml:7: field onCall\.maxTurns .*; this machine is not on call until it is fixed/) });
    expect((await loadConfig(dir))?.name).toBe("soda-yeti");
    await writeFile(join(dir, "machine.yaml"), "name: soda-yeti\nuuid: u-1\n");
    expect(await loadOnCall(dir)).toEqual({});
  });
});

describe("a YAML error inside the onCall block (issue 58, finding 7)", () => {
  const good = "name: soda-yeti\nuuid: u-1\nheartbeat: 90s\n";
  const block = "onCall:\n  agent: claude\n  cwd: /tmp\n  from: [izzit7\n  permissions: edit\n";
  it("takes only the block off: the config loads, the block's problem names its line, a save keeps the block as written", async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "machine.yaml"), `${good}${block}notify:\n  command: echo hi\n`);
    const config = await loadConfig(dir);
    expect(config).toMatchObject({ name: "soda-yeti", heartbeat: 90, notify: { command: "echo hi" } });
    expect(await loadOnCall(dir)).toEqual({
      problem: expect.stringMatching(/machine\.yaml:8: the onCall block is not valid YAML \(Flow sequence .*\); this machine is not on call until it is fixed/),
    });
    await saveConfig(dir, { ...config!, heartbeat: 120 });
    const again = await readFile(join(dir, "machine.yaml"), "utf8");
    expect(again).toContain(block);
    expect((await loadConfig(dir))?.heartbeat).toBe(120);
    expect((await loadOnCall(dir)).problem).toMatch(/the onCall block is not valid YAML/);
  });
  it("a YAML error outside the block is still the whole file's", async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "machine.yaml"), `${good}notify: [x\n${block}`);
    await expect(loadConfig(dir)).rejects.toThrow(/is not valid YAML/);
    expect(await loadOnCall(dir)).toEqual({});
  });
});

describe("numbers out of bounds are said in a sentence (issue 58, finding 14)", () => {
  it.each([
    [{ maxTurns: 1e20 }, "field onCall.maxTurns must be 10000 at most"],
    [{ maxParallel: Number("99999999999999999999") }, "field onCall.maxParallel must be 16 at most"],
    [{ maxParallel: 1.5 }, "field onCall.maxParallel must be a whole number"],
    [{ dailyBudgetUsd: 2e6 }, "field onCall.dailyBudgetUsd must be 1000000 at most"],
    [{ maxBudgetUsd: 0 }, "field onCall.maxBudgetUsd must be more than 0"],
    [{ maxTurns: "ten" }, "field onCall.maxTurns must be a number"],
  ])("%j", (extra, problem) => {
    const r = parseOnCall({ agent: "claude", cwd: "/x", from: "ALL", ...extra });
    expect(r).toMatchObject({ problem });
    expect((r as { problem: string }).problem).not.toMatch(/Too big|expected|9007199254740991/);
  });
});
