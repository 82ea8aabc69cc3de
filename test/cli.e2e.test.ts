// The CLI as a user meets it: exit codes, the demo. (Help with examples, the
// example tree kept in coordination/: cli.test.ts.)
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, git, makeFleet, tempDir } from "./helpers.js";

describe("exit codes", () => {
  it("2 for bad usage, with one clear sentence", async () => {
    expect((await cli("frobnicate")).code).toBe(2);
    expect((await cli("init", "/tmp/x")).err).toMatch(/required option '--name <machine>'/);
    const outside = await tempDir();
    const r = await cli("sync", "--dir", outside);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`coord: ${outside} is not a git checkout; run coord init there first or pass --dir`);
  });

  it("1 when the remote cannot be reached at init", async () => {
    const r = await cli("init", join(await tempDir(), "m"), "--name", "m1", "--remote", "git://127.0.0.1:9/nothing.git");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^coord: could not clone git:\/\/127\.0\.0\.1:9\/nothing\.git: /);
  });

  it("a file validate cannot read, or a count that is not a number, gets one sentence and exit 2", async () => {
    const dir = await tempDir();
    const missing = await cli("validate", join(dir, "nope.json"));
    expect([missing.code, missing.err.trim()]).toEqual([2, `coord: there is no file ${join(dir, "nope.json")}; give the path of an ORDERS.json`]);
    const folder = await cli("validate", dir);
    expect([folder.code, folder.err.trim()]).toEqual([2, `coord: ${dir} is a directory; give the path of the ORDERS.json in it`]);
    const fleet = await makeFleet(["m1"]);
    try {
      const n = await cli("logs", "--dir", fleet.machines.m1!, "-n", "abc");
      expect([n.code, n.err.trim(), n.out]).toEqual([2, 'coord: -n must be a whole number, 0 or more, not "abc"', ""]);
    } finally {
      await fleet.cleanup();
    }
  });

  it("validate accepts a person's ORDERS.json by any path, and refuses a person's fields in a delegated file", async () => {
    const dir = await tempDir();
    const text = `${JSON.stringify({
      version: 1,
      emergency: { stop: false },
      pause: { m1: { reason: "maintenance" } },
      services: [{ id: "web", to: "m1", run: "sleep 100" }],
      orders: [{ id: "one", to: "m1", run: "true" }],
    })}\n`;
    // (No coordination/ beside them: validate checks the machines named only against a checkout's registered ones.)
    await mkdir(join(dir, "fleet"), { recursive: true });
    await mkdir(join(dir, "machine", "coordination", "orders"), { recursive: true });
    for (const path of [join(dir, "fleet", "ORDERS.json"), join(dir, "draft.json")]) {
      await writeFile(path, text);
      const r = await cli("validate", path);
      expect([r.code, r.err], path).toEqual([0, ""]);
    }
    const delegated = join(dir, "machine", "coordination", "orders", "m1.json");
    await writeFile(delegated, text);
    const r = await cli("validate", delegated);
    expect(r.code).toBe(3);
    for (const key of ["emergency", "pause", "services"]) expect(r.out + r.err).toMatch(new RegExp(`${key} belongs in ORDERS.json \\(a person's file\\)`));
  });

  it("hub create refuses a non-empty path", async () => {
    const dir = await tempDir();
    await cli("hub", "create", join(dir, "hub.git"));
    const r = await cli("hub", "create", join(dir, "hub.git"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists and is not empty/);
    await writeFile(join(dir, "a-file"), "mine");
    const file = await cli("hub", "create", join(dir, "a-file"));
    expect([file.code, file.err.trim()]).toEqual([2, `coord: ${join(dir, "a-file")} already exists and is a file; choose a new path`]);
    expect(await readFile(join(dir, "a-file"), "utf8")).toBe("mine");
  });
});

describe("coord demo", () => {
  it("runs real commands on three machines and ends with the status table", async () => {
    const dir = join(await tempDir(), "demo");
    const r = await cli("demo", "--dir", dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/izzit7\s+online\s+idle/);
    expect(r.out).toMatch(/hello\s+1\s+completed\s+izzit7=completed\(0\) machine-2=completed\(0\) soda-yeti=completed\(0\)/);
    expect(r.out).toMatch(/flaky\s+1\s+completed\s+machine-2=completed\(0\)/); // failed once, retried at round 2
    expect(r.out).toMatch(/too-slow\s+1\s+failed/);
    expect(r.out).toMatch(/test\s+1\s+completed\s+soda-yeti=completed\(0\)/); // after build, on another machine
    expect(r.out).toMatch(/one-of-you\s+1\s+completed\s+\S+=completed\(0\)\s*$/m); // exactly one machine
    expect(r.out).toContain(`The repositories are in ${dir}`);
    // Real output of real commands, not canned text.
    // On the machines' branch, as izzit7's checkout last fetched it (its work tree is the people's branch).
    const izzit7 = await git(join(dir, "izzit7"), "show", "refs/remotes/origin/coord:coordination/COMPUTER_izzit7.md");
    expect(izzit7).toContain(`v${process.versions.node}`);
    expect(izzit7).toMatch(/hello from izzit7 on \S+ \S+/);
  });
});
