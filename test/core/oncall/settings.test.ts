import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { withTable } from "../../../src/core/orders/field-words.js";
import { flagOfField, givenSettings, ON_CALL_FIELDS, onCallFieldsTable, writtenSettings } from "../../../src/core/oncall/settings.js";
import { onCallSchema, parseOnCall, readOnCallState } from "../../../src/state/on-call.js";

describe("the on-call setting's one field table", () => {
  it("docs/agents.md shows the table as the schema has it (npm run docs:fields writes it)", () => {
    const text = readFileSync("docs/agents.md", "utf8");
    expect(withTable(text, "on-call-fields", onCallFieldsTable())).toBe(text);
    for (const f of ON_CALL_FIELDS) expect(onCallFieldsTable()).toContain(`| \`${f.name}\` | \`${f.flag} `);
  });

  it("names every field of the schema once, and nothing else (the agent is the command's argument)", () => {
    const schema = Object.keys(onCallSchema.shape).filter((k) => k !== "agent");
    expect(ON_CALL_FIELDS.map((f) => f.name).sort()).toEqual(schema.sort());
    expect(new Set(ON_CALL_FIELDS.map((f) => f.flag)).size).toBe(ON_CALL_FIELDS.length);
  });

  it.each(ON_CALL_FIELDS.map((f) => [f.name, f.kind] as const))("%s is read as the schema takes it (%s)", (name, kind) => {
    const base = { agent: "claude", cwd: "/w", from: ["a"] };
    const sample = { text: "x", list: ["a"], int: 3, number: 2.5, duration: "90s" }[kind];
    const value = name === "permissions" ? "edit" : name === "from" ? ["b"] : name === "allowTools" ? ["Bash"] : sample;
    const r = parseOnCall({ ...base, [name]: value });
    expect(r).toHaveProperty("settings");
  });

  it.each([
    [{ agent: "claude", cwd: "/w", from: ["a"] }],
    [{ agent: "codex", cwd: "/w", from: "ALL", permissions: "edit", timeout: "45m", maxParallel: 4 }],
    [{ agent: "claude", cwd: "~/x", from: ["a", "b"], maxTurns: 30, maxBudgetUsd: 2, dailyBudgetUsd: 20, model: "opus", approvalTimeout: 120, allowTools: ["Bash"] }],
  ])("machine.yaml's block reads back as the setting it was written from: %j", (given) => {
    const r = parseOnCall(given);
    if (!("settings" in r)) throw new Error(r.problem);
    const again = parseOnCall(writtenSettings(r.settings));
    expect(again).toEqual(r);
  });

  it("keeps defaults a person reads first, and leaves out what was not set", () => {
    const r = parseOnCall({ agent: "claude", cwd: "/w", from: ["a"] });
    if (!("settings" in r)) throw new Error(r.problem);
    expect(writtenSettings(r.settings)).toEqual({ agent: "claude", cwd: "/w", from: ["a"], permissions: "read-only", timeout: "1800s", maxParallel: 2, approvalTimeout: "600s" });
  });

  it("a problem names the flag a person typed", () => {
    expect(["maxTurns", "allowTools", "approvalTimeout", "cwd"].map(flagOfField)).toEqual(["--max-turns", "--allow-tool", "--approval-timeout", "--cwd"]);
    expect(givenSettings({ maxTurns: 3, model: undefined, timeout: "5m" })).toEqual({ timeout: "5m", maxTurns: 3 });
  });
});

describe("on-call.json's schema holds what crash recovery reads", () => {
  const state = (running: Record<string, unknown>) =>
    JSON.stringify({ version: 1, taken: [], threads: { "a/b/1": { agent: "claude", cwd: "/w", queue: [], lastAt: "2026-11-27T00:00:00Z", running } } });
  const base = { runner: 1, startedAt: "2026-11-27T00:00:00Z", asks: [] };
  it.each([
    [{ ...base, engine: "e1", answers: [{ to: "a", replyTo: "a/b/1", text: "done", mark: { answer: true } }] }, true],
    [{ ...base, answers: [{ to: 5, text: "done" }] }, false],
    [{ ...base, engine: 7 }, false],
  ])("%j is %s", async (running, ok) => {
    const dir = await mkdtemp(join(tmpdir(), "coord-on-call-state-"));
    await writeFile(join(dir, "on-call.json"), state(running));
    const read = await readOnCallState(dir);
    expect(read.threads["a/b/1"] !== undefined).toBe(ok);
  });
});
