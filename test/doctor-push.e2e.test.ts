// coord doctor proves what it says of pushing (issue: "On real git servers"): a real push of a ref of the
// machine's own, which the server's hooks see, deleted after; and the machine's own last syncs, whose
// refusal it says in the server's words. Pre-receive hooks stand in for a host's rules (GitHub's GH006).
import { execFile } from "node:child_process";
import { chmod, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { type Check, doctor, doctorExitCode, formatChecks } from "../src/commands/doctor.js";
import { cli, type Fleet, git, makeFleet, pushOrders, tempDir } from "./helpers.js";

const run = promisify(execFile);

let fleet: Fleet | undefined;
const scratch: string[] = [];
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A PATH with git alone: no crontab, systemctl or agent CLI of this machine is asked. */
async function gitOnlyPath(): Promise<string> {
  const dir = await tempDir("coord-gitonly-");
  scratch.push(dir);
  await symlink((await run("sh", ["-c", "command -v git"])).stdout.trim(), join(dir, "git"));
  return dir;
}

/** doctor of one machine, as a function (its checks) and as the CLI (its output and exit code). */
async function runDoctor(dir: string): Promise<{ checks: Check[]; text: string; code: number; out: string }> {
  const path = await gitOnlyPath();
  const checks = await doctor({ dir, env: { ...process.env, PATH: path } });
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    const r = await cli("doctor", "--dir", dir);
    return { checks, text: formatChecks(checks), code: r.code, out: `${r.out}\n${r.err}` };
  } finally {
    process.env.PATH = saved;
  }
}

const one = (checks: Check[], name: string): Check => {
  const found = checks.filter((c) => c.name === name);
  expect(found, `one ${name} check in\n${formatChecks(checks)}`).toHaveLength(1);
  return found[0]!;
};

/** The hub's pre-receive hook: `body` runs once per ref update, with $old, $new and $ref set; exit 1 refuses the push. */
async function hook(f: Fleet, body: string): Promise<void> {
  const path = join(f.hubPath, "hooks", "pre-receive");
  await writeFile(path, `#!/bin/sh\nwhile read old new ref; do\n${body}\ndone\nexit 0\n`);
  await chmod(path, 0o755);
}

const ZERO = /^0+$/;
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const hubRefs = (f: Fleet) => git(f.hubPath, "ls-remote", f.hubPath);

describe("coord doctor's push", () => {
  it("pushes a ref of the machine's own for real, which the hub's hook sees, and deletes it", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    const seen = join(f.root, "hook.log");
    await hook(f, `echo "$old $new $ref" >> '${seen}'`);
    const coordTip = (await git(f.hubPath, "rev-parse", "refs/heads/coord")).trim();

    const d = await runDoctor(f.machines.a!);
    const push = one(d.checks, "push");
    expect(push.level, d.text).toBe("OK");
    expect(push.detail).toContain("refs/coord-doctor/a");
    // Honest about what it proved: a ref of its own, not the branch coord (that is the syncs').
    expect(push.detail).toMatch(/a ref of this machine's own/);
    expect(push.detail).toMatch(/branch coord itself are proven by this machine's syncs, and none has failed/);
    expect(
      d.checks.some((c) => c.name === "sync"),
      d.text,
    ).toBe(false);
    expect(d.code, d.out).toBe(0);
    expect(doctorExitCode(d.checks)).toBe(0);

    // The server saw a creation and a delete, once per run (the function, then the CLI): an empty root commit, which
    // changes no file (rules per path let it through), never coord's commit.
    const updates = (await readFile(seen, "utf8")).split("\n").filter(Boolean);
    const mine = updates.map((l) => l.split(" ")).filter(([, , ref]) => ref === "refs/coord-doctor/a");
    expect(mine, updates.join("\n")).toHaveLength(4);
    let created = "";
    for (const [i, [old, next]] of mine.entries()) {
      if (i % 2 === 0) {
        expect(ZERO.test(old!)).toBe(true);
        created = next!;
        expect(created).not.toBe(coordTip);
        expect((await git(f.hubPath, "cat-file", "-p", created)).split("\n").filter((l) => /^(tree|parent) /.test(l))).toEqual([`tree ${EMPTY_TREE}`]);
      } else expect([old, ZERO.test(next!)]).toEqual([created, true]);
    }
    expect(await hubRefs(f)).not.toContain("coord-doctor");
    expect(await git(f.machines.a!, "for-each-ref")).not.toContain("coord-doctor");
  });

  it("FAILs with the hook's own words when the hub refuses the ref, and exits non-zero", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await hook(
      f,
      `case "$ref" in refs/coord-doctor/*)
  echo "error: GH013: Repository rule violations found for $ref." >&2
  echo "error: Cannot create ref due to creations being restricted." >&2
  exit 1 ;;
esac`,
    );
    const d = await runDoctor(f.machines.a!);
    const push = one(d.checks, "push");
    expect(push.level, d.text).toBe("FAIL");
    expect(push.detail).toMatch(/refused a push of refs\/coord-doctor\/a, a ref of this machine's own: /);
    expect(push.detail).toContain("GH013: Repository rule violations found for refs/coord-doctor/a");
    expect(push.detail).toContain("Cannot create ref due to creations being restricted");
    expect(push.detail).toMatch(/refs\/coord-doctor\/a refused by the remote \(pre-receive hook declined\)/);
    expect(push.fix).toMatch(/write access/);
    expect(d.out).toMatch(/^FAIL +push +.*GH013: Repository rule violations found for refs\/coord-doctor\/a/m);
    expect(d.out).not.toMatch(/^\s+at /m); // no stack trace
    expect(d.code).toBe(1);
    expect(await hubRefs(f)).not.toContain("coord-doctor");
  });

  it("WARNs with the git command to remove the ref when the hub refuses its delete", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await hook(f, `case "$ref" in refs/coord-doctor/*) case "$new" in *[!0]*) ;; *) echo "error: deleting $ref is not allowed" >&2; exit 1 ;; esac ;; esac`);
    const d = await runDoctor(f.machines.a!);
    const push = one(d.checks, "push");
    expect(push.level, d.text).toBe("WARN");
    expect(push.detail).toMatch(/accepted a push of refs\/coord-doctor\/a.*refused its delete.*deleting refs\/coord-doctor\/a is not allowed/);
    expect(push.fix).toContain(`git -C ${f.machines.a!} push origin :refs/coord-doctor/a`);
    expect(d.code, d.out).toBe(0);
    // The ref is there, as said; the second run replaced it (forced) rather than failing on it.
    expect(await hubRefs(f)).toContain("refs/coord-doctor/a");
  });
});

describe("coord doctor's last syncs", () => {
  it("after a sync the hub refused, prints the server's GH006 line and exits non-zero, while the ref push is OK", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await pushOrders(f, [{ id: "x", to: "a", run: "true" }]);
    await hook(
      f,
      `if [ "$ref" = refs/heads/coord ]; then
  echo "error: GH006: Protected branch update failed for refs/heads/coord." >&2
  echo "error: Changes must be made through a pull request." >&2
  exit 1
fi`,
    );
    const sync = await cli("sync", "--dir", f.machines.a!);
    expect(sync.code, sync.err).toBe(1);

    const d = await runDoctor(f.machines.a!);
    const push = one(d.checks, "push");
    expect(push.level, d.text).toBe("OK");
    expect(push.detail).toMatch(/branch coord itself are proven by this machine's syncs \(see the sync line\)/);
    const last = one(d.checks, "sync");
    expect(last.level, d.text).toBe("FAIL");
    expect(last.detail).toMatch(/^the hub refused this machine's last push \(1 failed sync since \d{4}-\d\d-\d\dT[^,]+, \d+ s ago\): /);
    expect(last.detail).toContain("GH006: Protected branch update failed for refs/heads/coord");
    expect(last.fix).toMatch(/refs\/heads\/coord/);
    expect(d.out).toMatch(/^FAIL +sync +the hub refused this machine's last push .*GH006: Protected branch update failed for refs\/heads\/coord/m);
    expect(d.code).toBe(1);
  });
});
