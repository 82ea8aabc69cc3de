// The ssh command and transport settings coord hands git, as git's own config answers them (each asks git).
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sshCommandFor } from "../src/git/git.js";
import { gitCommandEnv } from "../src/git/env.js";

describe("sshCommandFor", () => {
  it("in a directory whose .git is a file (a worktree, a submodule): no ENOTDIR, GIT_SSH is used", () => {
    const dir = mkdtempSync(join(tmpdir(), "coord-worktree-"));
    writeFileSync(join(dir, ".git"), "gitdir: /nonexistent/main/.git/worktrees/x\n");
    expect(sshCommandFor(dir, {})).toBe("ssh -o BatchMode=yes");
    expect(sshCommandFor(dir, { GIT_SSH: "/opt/my tools/ssh" })).toBe("'/opt/my tools/ssh' -o BatchMode=yes");
    expect(sshCommandFor(dir, { GIT_SSH: "/usr/bin/plink" })).toBe("/usr/bin/plink -batch");
    expect(sshCommandFor(dir, { GIT_SSH: "/usr/bin/plink", GIT_SSH_COMMAND: "ssh -p 2222" })).toBe("ssh -p 2222 -o BatchMode=yes");
  });
});

describe("the transport coord asks of git", () => {
  it("speaks protocol 0 with the skipping negotiation unless the checkout's config names its own", () => {
    const dir = mkdtempSync(join(tmpdir(), "coord-transport-"));
    execFileSync("git", ["init", "-q", dir]);
    const settings = () => gitCommandEnv(dir).config.filter((c) => /^(protocol|fetch)\./.test(c));
    expect(settings()).toEqual(["protocol.version=0", "fetch.negotiationAlgorithm=skipping"]);
    // A later change of the config is seen (looked up again when a config file changed).
    execFileSync("git", ["-C", dir, "config", "protocol.version", "2"]);
    execFileSync("touch", ["-d", "2001-01-01", join(dir, ".git", "config")]);
    expect(settings()).toEqual(["fetch.negotiationAlgorithm=skipping"]);
    execFileSync("git", ["-C", dir, "config", "fetch.negotiationAlgorithm", "consecutive"]);
    execFileSync("touch", ["-d", "2002-01-01", join(dir, ".git", "config")]);
    expect(settings()).toEqual([]);
  });

  it("follows the global config file GIT_CONFIG_GLOBAL names, as git does, and hands the variable on", () => {
    const dir = mkdtempSync(join(tmpdir(), "coord-transport-"));
    execFileSync("git", ["init", "-q", dir]);
    const global = join(dir, "global.gitconfig");
    writeFileSync(global, "[protocol]\n\tversion = 2\n[core]\n\tsshCommand = ssh -i /keys/fleet\n");
    const before = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = global;
    try {
      const { env, config } = gitCommandEnv(dir);
      expect(config.filter((c) => /^(protocol|fetch)\./.test(c))).toEqual(["fetch.negotiationAlgorithm=skipping"]);
      expect(env.GIT_CONFIG_GLOBAL).toBe(global);
      expect(env.GIT_SSH_COMMAND).toBe("ssh -i /keys/fleet -o BatchMode=yes");
    } finally {
      if (before === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = before;
    }
  });
});
