// The shield's rules (src/core/agents/sandbox.ts): when an agent may start, the command line it starts with, and which
// files of the state directory are keys. What the real bubblewrap makes of it: test/sandbox.e2e.test.ts.
import { describe, expect, it } from "vitest";
import {
  agentConfigs,
  agentHomes,
  agentLogins,
  apartState,
  BWRAP_PLACES,
  bwrapArgs,
  keptInHoles,
  seenAgain,
  trustedProgram,
  privateKeyNames,
  cwdGitPaths,
  pinnedParents,
  projectConfigs,
  type SandboxTool,
  sandboxSetting,
  sandboxVerdict,
  seatbeltProfile,
  shieldedArgv,
} from "../../../src/core/agents/sandbox.js";

const bwrap: SandboxTool = { kind: "bwrap", path: "/usr/bin/bwrap" };
const seatbelt: SandboxTool = { kind: "seatbelt", path: "/usr/bin/sandbox-exec" };
const none: SandboxTool = { kind: "none", why: "bubblewrap (bwrap) is not on PATH" };
const shield = { hide: ["/f/.git/coord/machine_key", "/f/.git/coord/secrets.yaml"], guard: ["/f/.git/coord/machine.yaml"], write: ["/w/app", "/f/.git/coord"] };

describe("whether an agent starts", () => {
  it.each([
    ["on", bwrap, "linux", "shielded"],
    ["on", seatbelt, "darwin", "shielded"],
    ["on", none, "linux", "refused"],
    ["on", { kind: "none", why: "there is no sandbox coord can use on win32" } as SandboxTool, "win32", "refused"],
    ["off", bwrap, "linux", "bare"],
    ["off", none, "win32", "bare"],
  ] as const)("setting %s with %o on %s: %s", (setting, tool, platform, run) => {
    expect(sandboxVerdict(setting, tool, platform).run).toBe(run);
  });

  it.each([
    ["linux", "apt-get install bubblewrap"],
    ["darwin", "sandbox-exec"],
    ["win32", "coord has no sandbox for win32"],
  ])("a refusal on %s says why, what is at stake and the way out (%s)", (platform, fix) => {
    const v = sandboxVerdict("on", none, platform);
    if (v.run !== "refused") throw new Error("not refused");
    expect(v.refused).toContain("bubblewrap (bwrap) is not on PATH");
    expect(v.refused).toContain("private key");
    expect(v.refused).toContain(fix);
    expect(v.refused).toContain("agentSandbox: off");
  });

  it("off says what an agent can then read", () => {
    const v = sandboxVerdict("off", bwrap, "linux");
    expect(v.run === "bare" && v.warning).toMatch(/agentSandbox is off.*private key and secret store/);
  });

  it.each([
    ["on", undefined, "on"],
    ["on", "off", "off"],
    ["off", undefined, "off"],
    ["off", "on", "off"],
    ["on", "OFF", "on"],
  ] as const)("machine.yaml %s with COORD_AGENT_SANDBOX=%s: %s", (config, env, want) => {
    expect(sandboxSetting(config, env)).toBe(want);
  });
});

describe("the command line behind the shield", () => {
  it("bubblewrap: user and PID namespaces of its own, the tree read-only, its holes writable, guarded files read-only in them, hidden ones masked, no capability", () => {
    expect(bwrapArgs(shield, false)).toEqual([
      ...["--unshare-user", "--unshare-pid", "--die-with-parent"],
      ...["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"],
      ...["--ro-bind-try", "/proc/sys", "/proc/sys", "--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"],
      ...["--ro-bind-try", "/proc/irq", "/proc/irq", "--ro-bind-try", "/proc/bus", "/proc/bus"],
      ...["--bind-try", "/w/app", "/w/app", "--bind-try", "/f/.git/coord", "/f/.git/coord"],
      ...["--ro-bind-try", "/f/.git/coord/machine.yaml", "/f/.git/coord/machine.yaml"],
      ...["--ro-bind-try", "/dev/null", "/f/.git/coord/machine_key"],
      ...["--ro-bind-try", "/dev/null", "/f/.git/coord/secrets.yaml"],
      ...["--cap-drop", "ALL"],
    ]);
  });

  it("its own empty temp directories first, then the holes, the checkout and coord's state read-only again (a cwd above them too), a hole below them again, the masks and sockets", () => {
    const full = {
      fresh: ["/tmp", "/dev/shm"],
      write: ["/home/u", "/home/u/.claude", "/home/u/fleet/.git/coord/agents/a1"],
      keep: ["/home/u/fleet", "/home/u/fleet/.git"],
      guard: ["/home/u/fleet/.git/coord/trust.json"],
      hide: ["/home/u/fleet/.git/coord/machine_key"],
      sockets: ["/run/docker.sock"],
    };
    expect(bwrapArgs(full, false).slice(22)).toEqual([
      ...["--tmpfs", "/tmp", "--tmpfs", "/dev/shm"],
      ...["--bind-try", "/home/u", "/home/u", "--bind-try", "/home/u/.claude", "/home/u/.claude"],
      ...["--bind-try", "/home/u/fleet/.git/coord/agents/a1", "/home/u/fleet/.git/coord/agents/a1"],
      ...["--ro-bind-try", "/home/u/fleet", "/home/u/fleet", "--ro-bind-try", "/home/u/fleet/.git", "/home/u/fleet/.git"],
      ...["--ro-bind-try", "/home/u/fleet/.git/coord/trust.json", "/home/u/fleet/.git/coord/trust.json"],
      ...["--bind-try", "/home/u/fleet/.git/coord/agents/a1", "/home/u/fleet/.git/coord/agents/a1"],
      ...["--ro-bind-try", "/dev/null", "/home/u/fleet/.git/coord/machine_key"],
      ...["--ro-bind-try", "/dev/null", "/run/docker.sock"],
      ...["--cap-drop", "ALL"],
    ]);
  });

  it("its CLI's state in coord's place after the holes, the person's login in it, then the checkout and coord's state read-only, and the person's settings", () => {
    const apart = {
      write: ["/home/u/work"],
      apart: [{ path: "/home/u/.claude", store: "/home/u/fleet/.git/coord/agent-state/claude/home/.claude" }],
      login: ["/home/u/.claude/.credentials.json"],
      keep: ["/home/u/fleet"],
      guard: ["/home/u/.claude/settings.json"],
      hide: [],
    };
    expect(bwrapArgs(apart, false).slice(22)).toEqual([
      ...["--bind-try", "/home/u/work", "/home/u/work"],
      ...["--bind-try", "/home/u/fleet/.git/coord/agent-state/claude/home/.claude", "/home/u/.claude"],
      ...["--bind-try", "/home/u/.claude/.credentials.json", "/home/u/.claude/.credentials.json"],
      ...["--ro-bind-try", "/home/u/fleet", "/home/u/fleet"],
      ...["--ro-bind-try", "/home/u/.claude/settings.json", "/home/u/.claude/settings.json"],
      ...["--cap-drop", "ALL"],
    ]);
    // Other turns' MCP configs out of sight, its own seen: after what is kept, before the masks.
    const veiled = bwrapArgs({ ...apart, veil: ["/home/u/fleet/.git/coord/on-call"], reveal: ["/home/u/fleet/.git/coord/on-call/t1.mcp.json"] }, false).slice(22);
    expect(veiled.slice(-7)).toEqual([
      ...["--tmpfs", "/home/u/fleet/.git/coord/on-call"],
      ...["--ro-bind-try", "/home/u/fleet/.git/coord/on-call/t1.mcp.json", "/home/u/fleet/.git/coord/on-call/t1.mcp.json"],
      ...["--cap-drop", "ALL"],
    ]);
    // sandbox-exec cannot put one directory in another's place: there the CLI's state is the person's, a hole.
    expect(seatbeltProfile(apart)).toContain('(allow file-write* (subpath "/home/u/work") (subpath "/home/u/.claude"))');
  });

  it("as root the agent is uid 65534 in its namespace (a CLI's own bubblewrap works there), otherwise its own uid", () => {
    expect(bwrapArgs(shield, true).slice(0, 5)).toEqual(["--unshare-user", "--uid", "65534", "--gid", "65534"]);
    expect(bwrapArgs(shield, false)).not.toContain("--uid");
  });

  it("a PID namespace of its own, ended with the agent: nothing it starts outlives it", () => {
    for (const root of [true, false]) expect(bwrapArgs(shield, root)).toEqual(expect.arrayContaining(["--unshare-pid", "--die-with-parent", "--proc"]));
  });

  it.each([
    [{ uid: 0, mode: 0o100755, isFile: true }, true],
    [{ uid: 0, mode: 0o104755, isFile: true }, true],
    [{ uid: 1000, mode: 0o100755, isFile: true }, false],
    [{ uid: 0, mode: 0o100775, isFile: true }, false],
    [{ uid: 0, mode: 0o100757, isFile: true }, false],
    [{ uid: 0, mode: 0o100644, isFile: true }, false],
    [{ uid: 0, mode: 0o040755, isFile: false }, false],
  ])("bubblewrap is trusted as the sandbox only as root's alone to change: %o → %s", (st, want) => {
    expect(trustedProgram(st)).toBe(want);
  });

  it("bubblewrap is looked for in the system's places only, never on PATH", () => {
    expect(BWRAP_PLACES).toEqual(["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"]);
  });

  it("the agent's own argv follows --, untouched (a prompt that looks like an option stays an argument)", () => {
    const argv = ["claude", "-p", "--output-format", "stream-json", "--", "--ro-bind"];
    const out = shieldedArgv({ kind: "bwrap", path: "/usr/bin/bwrap" }, shield, argv, false);
    expect(out[0]).toBe("/usr/bin/bwrap");
    expect(out.slice(out.indexOf("--") + 1)).toEqual(argv);
  });

  it("sandbox-exec: writes only in the holes, never to a guarded file, the hidden files neither read nor written", () => {
    const out = shieldedArgv({ kind: "seatbelt", path: "/usr/bin/sandbox-exec" }, shield, ["codex", "exec"], true);
    expect(out.slice(0, 2)).toEqual(["/usr/bin/sandbox-exec", "-p"]);
    expect(out.slice(3)).toEqual(["--", "codex", "exec"]);
    expect(out[2]).toBe(
      [
        "(version 1)",
        "(allow default)",
        '(deny file-write* (subpath "/"))',
        '(allow file-write* (subpath "/dev"))',
        '(allow file-write* (subpath "/w/app") (subpath "/f/.git/coord"))',
        '(deny file-write* (subpath "/f/.git/coord/machine.yaml"))',
        '(deny file-read* file-write* (literal "/f/.git/coord/machine_key") (literal "/f/.git/coord/secrets.yaml"))',
        "",
      ].join("\n"),
    );
  });

  it("a path with a quote or a backslash cannot end the profile's string early", () => {
    expect(seatbeltProfile({ hide: ['/x/a"b\\c'], guard: [], write: [] })).toContain('(literal "/x/a\\"b\\\\c")');
  });
});

describe("what an agent may write", () => {
  it.each([
    ["claude", {}, ["/h/.claude", "/h/.claude.json"]],
    ["claude", { CLAUDE_CONFIG_DIR: "/c" }, ["/c", "/h/.claude.json"]],
    ["codex", {}, ["/h/.codex"]],
    ["codex", { CODEX_HOME: "/x/codex" }, ["/x/codex"]],
    ["opencode", {}, ["/h/.local/share/opencode", "/h/.local/state/opencode", "/h/.cache/opencode", "/h/.config/opencode"]],
    ["opencode", { XDG_CONFIG_HOME: "/xc" }, ["/h/.local/share/opencode", "/h/.local/state/opencode", "/h/.cache/opencode", "/xc/opencode"]],
    ["gemini", {}, ["/h/.gemini"]],
    ["cursor", {}, ["/h/.cursor", "/h/.config/cursor"]],
    ["myagent", {}, []],
  ] as const)("%s with %o keeps its state in %o", (agent, env, homes) => {
    expect(agentHomes(agent, "/h", env)).toEqual(homes);
  });

  // What a later session reads as the person's word stays read-only inside that state; claude's and codex's made empty
  // first when missing (an agent must not write the first version), the others' kept only where they are.
  it.each([
    ["claude", {}, "/h/.claude.json", "{}\n"],
    ["claude", {}, "/h/.claude/settings.json", "{}\n"],
    ["claude", {}, "/h/.claude/settings.local.json", "{}\n"],
    ["claude", {}, "/h/.claude/CLAUDE.md", ""],
    ["claude", {}, "/h/.claude/hooks/", ""],
    ["claude", {}, "/h/.claude/commands/", ""],
    ["claude", {}, "/h/.claude/plugins/", ""],
    ["claude", { CLAUDE_CONFIG_DIR: "/c" }, "/c/.claude.json", "{}\n"],
    ["claude", { CLAUDE_CONFIG_DIR: "/c" }, "/c/settings.json", "{}\n"],
    ["codex", {}, "/h/.codex/config.toml", ""],
    ["codex", { CODEX_HOME: "/x" }, "/x/AGENTS.md", ""],
    ["codex", {}, "/h/.codex/rules/", ""],
    ["codex", {}, "/h/.codex/.env", ""],
    ["codex", {}, "/h/.codex/hooks.json", undefined],
    ["claude", {}, "/h/.claude/rules/", ""],
    ["opencode", { XDG_CONFIG_HOME: "/xc" }, "/xc/opencode/opencode.json", undefined],
    ["opencode", {}, "/h/.config/opencode/plugin/", undefined],
    ["gemini", {}, "/h/.gemini/settings.json", undefined],
    ["cursor", {}, "/h/.cursor/mcp.json", undefined],
  ] as const)("%s with %o keeps %s read-only (made as %j when missing)", (agent, env, path, empty) => {
    const dir = path.endsWith("/");
    const entry = agentConfigs(agent, "/h", env).find((c) => c.path === (dir ? path.slice(0, -1) : path));
    expect(entry).toEqual({ path: dir ? path.slice(0, -1) : path, ...(dir ? { dir: true } : {}), ...(empty === undefined ? {} : { empty }) });
  });

  it.each([
    ["claude", {}, [{ path: "/h/.claude", store: "/s/claude/home/.claude" }]],
    ["claude", { CLAUDE_CONFIG_DIR: "/c/" }, [{ path: "/c", store: "/s/claude/root/c" }]],
    ["codex", { CODEX_HOME: "/h/x/codex" }, [{ path: "/h/x/codex", store: "/s/codex/home/x/codex" }]],
    [
      "opencode",
      { XDG_CONFIG_HOME: "/xc" },
      [
        { path: "/h/.local/share/opencode", store: "/s/opencode/home/.local/share/opencode" },
        { path: "/h/.local/state/opencode", store: "/s/opencode/home/.local/state/opencode" },
        { path: "/h/.cache/opencode", store: "/s/opencode/home/.cache/opencode" },
        { path: "/xc/opencode", store: "/s/opencode/root/xc/opencode" },
      ],
    ],
    ["gemini", {}, [{ path: "/h/.gemini", store: "/s/gemini/home/.gemini" }]],
    ["cursor", {}, []],
    ["myagent", {}, []],
  ] as const)("%s with %o is given its state apart, in coord's: %o", (agent, env, apart) => {
    expect(apartState(agent, "/h/", env, "/s")).toEqual(apart);
  });

  it.each([
    ["claude", {}, ["/h/.claude/.credentials.json"]],
    ["claude", { CLAUDE_CONFIG_DIR: "/c" }, ["/c/.credentials.json"]],
    ["codex", { CODEX_HOME: "/x" }, ["/x/auth.json"]],
    ["opencode", { XDG_DATA_HOME: "/d" }, ["/d/opencode/auth.json"]],
    ["gemini", {}, ["/h/.gemini/oauth_creds.json", "/h/.gemini/google_accounts.json"]],
    ["cursor", {}, []],
  ] as const)("%s with %o shares the person's login %o with its apart state", (agent, env, files) => {
    expect(agentLogins(agent, "/h", env)).toEqual(files);
  });

  it("none of its sessions, history or login: those it must write", () => {
    const all = ["claude", "codex", "opencode", "gemini", "cursor"].flatMap((a) => agentConfigs(a, "/h", {}).map((c) => c.path));
    for (const own of ["/h/.claude/projects", "/h/.claude/.credentials.json", "/h/.codex/sessions", "/h/.codex/auth.json", "/h/.codex/history.jsonl"])
      expect(all).not.toContain(own);
    expect(agentConfigs("claude", "/h", { CLAUDE_CONFIG_DIR: "/c" }).map((c) => c.path)).not.toContain("/h/.claude.json");
    expect(agentConfigs("myagent", "/h", {})).toEqual([]);
  });
});

describe("a project's CLI configuration in the agent's cwd", () => {
  it.each([
    // [entry, a directory made when missing]
    ["/w/app/.claude", true],
    ["/w/app/.codex", true],
    ["/w/app/.gemini", true],
    ["/w/app/.cursor", true],
    ["/w/app/.opencode/plugins", true],
    ["/w/app/.opencode/tool", true],
    ["/w/app/.opencode/opencode.json", false],
    ["/w/app/opencode.json", false],
    ["/w/app/opencode.jsonc", false],
  ] as const)("%s is kept read-only for every CLI's agent (made when missing: %s)", (path, made) => {
    const entry = projectConfigs("/w/app").find((c) => c.path === path);
    expect(entry).toBeDefined();
    expect(entry!.dir === true && entry!.empty !== undefined).toBe(made);
  });

  it("of a cwd that is a repository's top: its git directory whole, and where a .git file points", () => {
    expect(cwdGitPaths("/w/app")).toEqual(["/w/app/.git"]);
    expect(cwdGitPaths("/w/wt", ["/w/app/.git/worktrees/wt", "/w/app/.git"])).toEqual(["/w/wt/.git", "/w/app/.git/worktrees/wt", "/w/app/.git"]);
  });

  it.each([
    ["a kept directory two deep: its parent is pinned", ["/w/app/.opencode/plugins"], ["/w/app"], ["/w/app/.opencode"]],
    ["three deep: each parent, shallowest first", ["/w/app/a/b/c"], ["/w/app"], ["/w/app/a", "/w/app/a/b"]],
    ["one deep (the mount itself holds): nothing", ["/w/app/.git", "/w/app/.claude"], ["/w/app"], []],
    ["outside every hole: nothing", ["/etc/x/y"], ["/w/app"], []],
    ["a sibling whose name begins like the hole: nothing", ["/w/application/x/y"], ["/w/app"], []],
  ] as const)("pinned parents: %s", (_w, kept, holes, want) => expect(pinnedParents(kept, holes)).toEqual(want));

  it("names each entry once, and nothing that is the project's own work", () => {
    const paths = projectConfigs("/w/app").map((c) => c.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const work of ["/w/app/src", "/w/app/CLAUDE.md", "/w/app/AGENTS.md", "/w/app/.git", "/w/app/.opencode", "/w/app/.opencode/.gitignore"]) expect(paths).not.toContain(work);
  });
});

describe("what stays read-only in the holes, because it is run outside later", () => {
  const holes = ["/home/u/work", "/home/u/.claude", "/tmp/coord-run"];
  it.each([
    ["a PATH directory in a hole", ["/usr/bin", "/home/u/work/node_modules/.bin"], [], ["/home/u/work/node_modules/.bin"]],
    ["a PATH directory that is a hole", ["/tmp/coord-run"], [], ["/tmp/coord-run"]],
    ["a PATH directory above a hole, or beside one", ["/home/u", "/home/u/workshop"], [], []],
    ["a relative PATH entry", ["bin", "."], [], []],
    [
      "the CLI installed in its own state",
      [],
      ["/home/u/.claude/local/claude", "/home/u/.claude/local/node_modules/x/cli.js"],
      ["/home/u/.claude/local", "/home/u/.claude/local/node_modules/x"],
    ],
    ["the CLI right in a hole", [], ["/tmp/coord-run/claude"], ["/tmp/coord-run/claude"]],
    ["the CLI installed outside the holes", [], ["/usr/local/bin/claude"], []],
    ["both, once each", ["/home/u/.claude/local"], ["/home/u/.claude/local/claude"], ["/home/u/.claude/local"]],
  ])("%s", (_what, path, programs, kept) => {
    expect(keptInHoles(holes, path, programs)).toEqual(kept);
  });
});

describe("what it must still run from below its own empty temp directories", () => {
  const fresh = ["/tmp", "/dev/shm"];
  it.each([
    ["a PATH directory in /tmp", ["/usr/bin", "/tmp/ci/bin"], [], ["/tmp/ci/bin"]],
    ["coord's install cloned in /tmp", ["/tmp/ci-check"], [], ["/tmp/ci-check"]],
    [
      "a CLI installed by npm below /tmp, as found and resolved",
      [],
      ["/tmp/h/clis/2.1/node_modules/.bin/claude", "/tmp/h/clis/2.1/node_modules/@a/c/cli.js"],
      ["/tmp/h/clis/2.1/node_modules"],
    ],
    ["a program below /tmp, by its directory", [], ["/dev/shm/x/bin/tool"], ["/dev/shm/x/bin"]],
    ["a PATH directory into an installed package (its .bin)", ["/tmp/h/clis/2.1/node_modules/.bin"], [], ["/tmp/h/clis/2.1/node_modules"]],
    ["nothing outside them, nor the fresh directory itself", ["/usr/local/bin", "/tmp"], ["/usr/bin/claude"], []],
  ])("%s", (_what, dirs, programs, seen) => {
    expect(seenAgain(fresh, dirs, programs)).toEqual(seen);
  });
});

describe("the keys in a state directory", () => {
  it.each([
    [["machine_key", "machine_key.pub"], ["machine_key"]],
    [["machine_key.20261128101500", "machine_key.20261128101500.pub"], ["machine_key.20261128101500"]],
    [
      ["machine_key.pub.tmp-123", "machine_key.tmp-9"],
      ["machine_key.pub.tmp-123", "machine_key.tmp-9"],
    ],
    [["machine.yaml", "key_notice.json", "secrets.yaml", "machine_keys"], []],
  ])("%o: %o", (names, keys) => {
    expect(privateKeyNames(names)).toEqual(keys);
  });
});
