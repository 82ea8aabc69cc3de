// One adapter per agent CLI (src/core/agents/cli/<name>.ts): what each says holds together, and no file outside the
// adapters branches on a CLI's name (a comparison, a case, a table keyed by names, a table's entry read by a name), so
// that adding a CLI is one file and its tests.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { AGENTS, APART_AGENTS, HOOK_AGENTS, MCP_AGENTS, ON_CALL_AGENTS, WAKE_AGENTS } from "../../../src/core/agents/agents.js";
import { statePaths } from "../../../src/core/agents/cli/common.js";
import { SERVER_NAME } from "../../../src/core/agents/mcp-config.js";
import { onCallSchema } from "../../../src/core/oncall/settings.js";
import { SRC, sources } from "../../sources.js";

const NAMES = [...AGENTS.keys()];

/** Where a line branches on a CLI's name: `=== "codex"`, `case "codex":`, a key `codex:` of a table, `TABLE.codex`. */
function branchesOn(line: string): string | undefined {
  const code = line.replace(/^\s*(\/\/|\*|\/\*).*$/, "");
  for (const n of NAMES) {
    const patterns = [
      new RegExp(`[!=]==?\\s*["'\`]${n}["'\`]`),
      new RegExp(`["'\`]${n}["'\`]\\s*[!=]==?`),
      new RegExp(`\\bcase\\s+["'\`]${n}["'\`]`),
      new RegExp(`^\\s*["']?${n}["']?\\s*:\\s*[{\\["'\`(]`),
      new RegExp(`\\b[A-Za-z_]+\\.${n}\\b(?!\\.json|\\/)`),
      new RegExp(`\\.get\\(\\s*["'\`]${n}["'\`]\\s*\\)`),
    ];
    if (patterns.some((p) => p.test(code))) return n;
  }
  return undefined;
}

describe("one adapter per agent CLI", () => {
  it("no file outside src/core/agents/cli/ branches on a CLI's name", async () => {
    const found: string[] = [];
    for (const file of await sources()) {
      const rel = relative(SRC, file);
      if (rel.startsWith("core/agents/cli/")) continue;
      const lines = (await readFile(file, "utf8")).split("\n");
      lines.forEach((line, i) => {
        const n = branchesOn(line);
        if (n) found.push(`${rel}:${i + 1} (${n}): ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  it.each([
    ['if (s.agent === "codex")', "codex"],
    ["case 'claude':", "claude"],
    ['  opencode: { kind: "own" },', "opencode"],
    ["const plan = HOOKS.claude.file;", "claude"],
    ['AGENTS.get("gemini")', "gemini"],
    ['"cursor" !== agent', "cursor"],
    ['help: "claude: tools allowed without asking"', undefined],
    ['// if (s.agent === "codex")', undefined],
    ['const file = "~/.claude.json";', undefined],
  ])("the scan finds a branch: %s", (line, want) => expect(branchesOn(line)).toBe(want));

  it("each list of CLIs is what the adapters say, and the on-call setting takes exactly those on call", () => {
    const withPart = (part: "onCall" | "mcp" | "hooks" | "wake") => NAMES.filter((n) => AGENTS.get(n)![part] !== undefined);
    expect(ON_CALL_AGENTS).toEqual(withPart("onCall"));
    expect(MCP_AGENTS).toEqual(withPart("mcp"));
    expect(HOOK_AGENTS).toEqual(withPart("hooks"));
    expect(WAKE_AGENTS).toEqual(withPart("wake"));
    expect([...APART_AGENTS]).toEqual(NAMES.filter((n) => AGENTS.get(n)!.state?.apart));
    for (const n of NAMES) expect(onCallSchema.safeParse({ agent: n, cwd: "/w", from: ["a"] }).success).toBe(ON_CALL_AGENTS.includes(n));
  });

  it.each(NAMES)("%s: its parts agree with each other", (name) => {
    const a = AGENTS.get(name)!;
    expect(a.name).toBe(name);
    expect(a.executables.length).toBeGreaterThan(0);
    // On call, its answer comes from its output: a CLI on call has a reader.
    if (a.onCall) expect(a.reader).toBeDefined();
    // Its state apart: the login it shares must be known, and its state must be.
    if (a.state?.apart) expect(a.state.logins).toBeDefined();
    if (a.mcp) expect(a.mcp.path[1]).toBe(SERVER_NAME);
    if (a.wake) expect(a.hooks).toBeDefined();
  });
});

describe("where each CLI keeps its state", () => {
  // The daemon's service carries `state.variables` (core/setup/daemon-service.ts): they must be what `homes` reads.
  it.each([...AGENTS.values()].filter((a) => a.state).map((a) => [a.name, a] as const))("%s: its variables are the ones its homes read", (_name, a) => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_t, k) => {
        if (typeof k === "string") read.add(k);
        return undefined;
      },
    });
    a.state!.homes(statePaths("/home/pat", env));
    expect([...read].sort()).toEqual([...(a.state!.variables ?? [])].filter((v) => read.has(v)).sort());
    // And each one it names moves a home.
    for (const v of a.state!.variables ?? []) {
      const moved = a.state!.homes(statePaths("/home/pat", { [v]: "/elsewhere" }));
      expect(moved.some((h) => h.startsWith("/elsewhere")) || v === "OPENCODE_CONFIG", v).toBe(true);
    }
  });
});
