// Path reservations end to end on real git, two machines: the reservation the
// hub saw first holds, the other machine learns on its next sync that it lost
// (who holds the paths, until when), and may take them once they are released
// or expired; the pre-commit hook in a project repository refuses a commit of
// a path another machine holds (--enforce), offline, with an override.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { parseComputer } from "../src/core/fleet/computer.js";
import { utcText } from "../src/core/fleet/presence.js";
import { cli, git, hubFile, hubStatus, makeFleet, personCommit, readLines, tempDir, type Fleet, waitFor } from "./helpers.js";

const run = promisify(execFile);

let fleet: Fleet | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const dirOf = (name: string) => fleet!.machines[name]!;

/** The reservations a machine's file publishes at the hub's tip, as coord reads them. */
async function published(name: string): Promise<unknown[]> {
  const file = parseComputer(await hubFile(fleet!, `coordination/COMPUTER_${name}.md`), name);
  return Array.isArray(file.reservations) ? file.reservations : [];
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON a command prints, read as a script would
async function json(...args: string[]): Promise<any> {
  const r = await cli(...args, "--json");
  expect(r.err).toBe("");
  return JSON.parse(r.out);
}

describe("coord reserve, release, reservations --help", () => {
  it.each([["reserve"], ["release"], ["reservations"]])("%s has a description and examples", async (command) => {
    const r = await cli(command, "--help");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: coord/);
    expect(r.out).toMatch(/Examples:\n {2}\$ coord /);
  });
});

describe("reservations", () => {
  it("A reserves src/**; B's src/a.ts, made before it saw A's, loses once both synced, and B is told who holds it until when, once", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    // B first, offline: stored at once, nothing published yet.
    const b = await cli("reserve", "src/a.ts", "--reason", "fix the parser", "--dir", B);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/^reserved beta\/1: src\/a\.ts until .*; it goes out with the next sync, which says whether it holds/);
    expect(await stat(join(B, ".git", "coord", "reservations.json"))).toBeTruthy();
    // A reserves and publishes first: the hub sees A's first.
    expect((await cli("reserve", "src/**", "--for", "1h", "--reason", "refactor auth", "--dir", A)).code).toBe(0);
    expect((await cli("sync", "--dir", A)).code).toBe(0);
    const until = (await json("reservations", "--dir", A)).own[0].until as string;
    expect(await published("alpha")).toEqual([{ id: 1, paths: ["src/**"], reason: "refactor auth", at: expect.any(String), until }]);

    const synced = await cli("sync", "--dir", B);
    expect(synced.code).toBe(0);
    expect(synced.out).toContain(`reservation beta/1 (src/a.ts) lost: alpha holds src/** until ${utcText(until)} (refactor auth)`);
    expect(await published("beta")).toEqual([]); // a lost reservation is never published
    const listed = await json("reservations", "--dir", B);
    expect(listed.own).toEqual([
      expect.objectContaining({
        key: "beta/1",
        state: "lost",
        lost: expect.objectContaining({ machine: "alpha", id: 1, paths: ["src/**"], reason: "refactor auth", until, live: true }),
      }),
    ]);
    expect(listed.fleet).toEqual([expect.objectContaining({ machine: "alpha", id: 1, paths: ["src/**"], until })]);
    // Told once: the next sync says nothing of it; coord.log has it once.
    expect((await cli("sync", "--dir", B)).out).not.toContain("lost");
    const logged = (await readLines(join(B, ".git", "coord", "coord.log"))).map((l) => JSON.parse(l)).filter((l) => l.kind === "reservation");
    expect(logged).toEqual([expect.objectContaining({ lost: 1, holder: "alpha/1" })]);

    // STATUS lists the live one, for people and scripts.
    expect((await hubStatus(fleet)).reservations).toEqual([{ machine: "alpha", id: 1, paths: ["src/**"], reason: "refactor auth", at: expect.any(String), until }]);
    expect(await hubFile(fleet, "STATUS.md")).toMatch(/## Reservations\n\n\| paths \| machine \| until \|\n\|---\|---\|---\|\n\| `src\/\*\*` \| \[alpha\]/);
    const status = await cli("status", "--no-fetch", "--dir", B);
    expect(status.out).toMatch(/RESERVED BY +PATHS +UNTIL +REASON\n.*\nalpha +src\/\*\* +.*refactor auth/);

    // Asking again now: lost at once (exit 4), with who holds it.
    const again = await cli("reserve", "src/a.ts", "--now", "--dir", B);
    expect(again.code).toBe(4);
    expect(again.out).toContain(`lost: alpha holds src/** until ${utcText(until)} (refactor auth)`);
    // A's own commits are not in the way of A.
    expect((await cli("reservations", "check", "src/a.ts", "--dir", A)).code).toBe(0);
    const checked = await cli("reservations", "check", "src/a.ts", "lib/b.ts", "--dir", B);
    expect(checked.code).toBe(4);
    expect(checked.out).toBe(`src/a.ts: alpha holds src/** until ${utcText(until)} (refactor auth)`);
  });

  it("after A releases them, B takes the paths; after A's expire, too", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    expect((await cli("reserve", "src/**", "--now", "--dir", A)).out).toMatch(/^reserved alpha\/1: src\/\*\* until .*; it holds; published [0-9a-f]{12}$/);
    expect((await cli("reserve", "src/a.ts", "--now", "--dir", B)).code).toBe(4);
    const released = await cli("release", "src/**", "--now", "--dir", A);
    expect(released.out).toMatch(/^released alpha\/1 \(src\/\*\*\); published /);
    expect(await published("alpha")).toEqual([]);
    // B's lost one says its holder's ended; a new reservation holds.
    expect((await json("reservations", "--dir", B)).own[0].lost.live).toBe(true); // as of B's last fetch
    const taken = await cli("reserve", "src/a.ts", "--now", "--dir", B);
    expect(taken.code).toBe(0);
    expect(taken.out).toMatch(/^reserved beta\/2: src\/a\.ts until .*; it holds; published /); // a new one: a lost one stays lost
    expect(await published("beta")).toEqual([expect.objectContaining({ id: 2, paths: ["src/a.ts"] })]);
    expect((await json("reservations", "--dir", B)).own.find((r: { id: number }) => r.id === 1).lost.live).toBe(false);

    // Expiry, by the reader's clock: A's holds for 8 s (B's reserve must come within it: two commands, each a publish,
    // on a loaded machine); B's loses meanwhile, then holds.
    expect((await cli("release", "--all", "--now", "--dir", B)).code).toBe(0);
    const short = await cli("reserve", "docs/**", "--for", "8s", "--now", "--dir", A);
    expect(short.out).toContain("it holds");
    // Read before B's reserve: under load that publish can take the rest of the 8 s, and an ended one is not listed.
    const expires = Date.parse((await json("reservations", "--dir", A)).own.find((r: { paths: string[] }) => r.paths[0] === "docs/**").until);
    const lost = await cli("reserve", "docs/x.md", "--now", "--dir", B);
    expect(lost.code).toBe(4);
    await waitFor(async () => Date.now() > expires + 50, 20_000, "alpha's reservation to expire");
    const after = await cli("reserve", "docs/x.md", "--now", "--dir", B);
    expect(after.code).toBe(0);
    expect(after.out).toContain("it holds");
    // A's file still lists its expired one until A syncs; nobody counts it; A's next sync drops it.
    expect((await json("reservations", "--dir", B)).fleet).toEqual([]);
    await cli("sync", "--dir", A);
    expect(await published("alpha")).toEqual([]);
    expect((await json("reservations", "--all", "--dir", A)).own).toEqual([expect.objectContaining({ paths: ["docs/**"], state: "expired" })]);
  });

  it("two machines publishing overlapping reservations at the same moment: exactly one holds, the other learns it lost", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    await cli("reserve", "src/**", "--dir", A);
    await cli("reserve", "src/a.ts", "--shared", "--dir", B); // shared still conflicts with an exclusive one
    // Both syncs at once, and both publish from the same tip: the hub holds the first push until the second has
    // arrived (which it built without the first's commit, since that had not landed), then lets both go. One lands;
    // the other is rejected and builds again on the new tip, where it finds its reservation lost.
    const arrived = join(fleet.root, "arrived");
    await mkdir(arrived);
    const hook = join(fleet.hubPath, "hooks", "pre-receive");
    await writeFile(
      hook,
      `#!/bin/sh\ncat >/dev/null\ntouch '${arrived}'/$$\nn=0\nwhile [ "$(ls '${arrived}' | wc -l)" -lt 2 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done\nexit 0\n`,
      { mode: 0o755 },
    );
    const both = await Promise.all([cli("sync", "--dir", A), cli("sync", "--dir", B)]);
    await rm(hook);
    expect(both.map((r) => r.code)).toEqual([0, 0]);
    expect((await readdir(arrived)).length, "both pushes reached the hub").toBeGreaterThanOrEqual(2);
    // Exactly one push was rejected: the race happened. Its loser learns in that very sync, on the tip it builds on
    // again, that its reservation lost, and never publishes it: the hub has only the winner's.
    const rejected = both.map((r) => /push rejected \(someone pushed first\)/.test(r.err));
    expect(rejected.filter(Boolean)).toHaveLength(1);
    const [loser, winner] = rejected[0] ? ["alpha", "beta"] : ["beta", "alpha"];
    expect(both[rejected.indexOf(true)]!.out).toMatch(new RegExp(`reservation ${loser}/1 .* lost: ${winner} holds`));
    expect(await published(loser)).toEqual([]);
    expect(await published(winner)).toHaveLength(1);
    const second = await Promise.all([cli("sync", "--dir", A), cli("sync", "--dir", B)]);
    const [a, b] = [(await json("reservations", "--dir", A)).own[0].state, (await json("reservations", "--dir", B)).own[0].state];
    expect(loser === "alpha" ? [a, b] : [b, a]).toEqual(["lost", "held"]);
    expect(await published(loser)).toEqual([]);
    expect(await published(winner)).toHaveLength(1);
    const said = [...both, ...second, ...(await Promise.all([cli("sync", "--dir", A), cli("sync", "--dir", B)]))].map((r) => r.out).join("\n");
    expect(said.match(new RegExp(`reservation ${loser}/1 .* lost`, "g"))).toHaveLength(1);
  });

  it("shared reservations of the same paths both hold", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    expect((await cli("reserve", "docs/**", "--shared", "--now", "--dir", A)).out).toContain("it holds");
    expect((await cli("reserve", "docs/*.md", "--shared", "--now", "--dir", B)).out).toContain("it holds");
    const checked = await cli("reservations", "check", "docs/a.md", "--dir", B);
    expect(checked.code).toBe(0); // shared: said, never refused
    expect(checked.out).toMatch(/^docs\/a\.md: alpha holds docs\/\*\* \(shared\) until .*: it edits them too$/);
    expect((await hubStatus(fleet)).reservations?.map((r) => r.machine)).toEqual(["alpha", "beta"]);
  });

  it("a reservation survives a lost state file (taken back from the machine's own file), and a bad one in a file is only that one's problem", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    await cli("reserve", "src/**", "lib/**", "--reason", "big move", "--now", "--dir", A);
    await rm(join(A, ".git", "coord", "reservations.json"));
    await cli("sync", "--dir", A);
    expect(await published("alpha")).toEqual([expect.objectContaining({ id: 1, paths: ["src/**", "lib/**"] })]);
    expect((await json("reservations", "--dir", A)).own).toEqual([expect.objectContaining({ id: 1, state: "held" })]);
    expect((await cli("reserve", "docs/**", "--dir", A)).out).toMatch(/^reserved alpha\/2:/); // no id used twice

    // Someone edits alpha's file by hand: one bad pattern. alpha's file still counts; that reservation is reported and ignored.
    const text = await hubFile(fleet, "coordination/COMPUTER_alpha.md");
    await personCommit(fleet, "coordination/COMPUTER_alpha.md", text.replace('"paths":["src/**","lib/**"]', '"paths":["../src/**"]'), "a bad hand edit");
    await cli("sync", "--dir", B);
    const status = await hubStatus(fleet);
    expect(status.machines.alpha).toBeDefined();
    expect(status.errors).toEqual([
      expect.objectContaining({
        file: "coordination/COMPUTER_alpha.md",
        path: "reservations[0]",
        message: expect.stringMatching(/ignored: reservation 1: the pattern "\.\.\/src\/\*\*" is refused: it has a \.\. segment/),
      }),
    ]);
    expect((await cli("reservations", "check", "src/a.ts", "--dir", B)).code).toBe(0);
    // alpha rewrites its own file at its next sync.
    await cli("sync", "--dir", A);
    expect((await hubStatus(fleet)).errors).toEqual([]);
    expect((await cli("reservations", "check", "src/a.ts", "--dir", B)).code).toBe(0); // B has not fetched since
    await cli("sync", "--dir", B);
    expect((await cli("reservations", "check", "src/a.ts", "--dir", B)).code).toBe(4);
  });
});

/** git commit in the project as a person, with the environment given; its exit code and what it said. */
async function commit(repo: string, message: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; err: string }> {
  try {
    const r = await run("git", ["-c", "user.name=Pat", "-c", "user.email=pat@example.com", "commit", "-m", message], { cwd: repo, env: { ...process.env, ...env } });
    return { code: 0, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stderr: string };
    return { code: x.code, err: x.stderr };
  }
}

describe("the pre-commit hook", () => {
  it("refuses B's commit of src/a.ts while A holds src/** (--enforce), says who and until when; an override commits; other paths pass", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    await cli("reserve", "src/**", "--for", "1h", "--reason", "refactor auth", "--now", "--dir", A);
    await cli("sync", "--dir", B); // B's last fetch has A's reservation: the hook asks nothing of the network
    const until = (await json("reservations", "--dir", B)).fleet[0].until as string;

    const project = await tempDir("coord-project-");
    cleanups.push(() => rm(project, { recursive: true, force: true }));
    await git(project, "init", "--quiet");
    await writeFile(join(project, "README.md"), "# project\n");
    await git(project, "add", "README.md");
    const installed = await cli("reserve", "hook", "install", "--enforce", "--repo", project, "--dir", B);
    expect(installed.code).toBe(0);
    expect(installed.out).toContain("pre-commit: installed; it refuses a commit that touches paths another machine reserved");
    expect((await commit(project, "first")).code).toBe(0); // the first commit (no HEAD yet), no reserved path

    await mkdir(join(project, "src"));
    await writeFile(join(project, "src", "a.ts"), "export {};\n");
    await git(project, "add", "src/a.ts");
    const refused = await commit(project, "touch a");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`src/a.ts: alpha holds src/** until ${utcText(until)} (refactor auth)`);
    expect(refused.err).toContain("coord: commit refused");
    expect(await git(project, "log", "--format=%s")).toBe("first\n");

    expect((await commit(project, "warned", { COORD_RESERVATIONS: "warn" })).err).toContain("committing anyway");
    await writeFile(join(project, "src", "a.ts"), "export const a = 1;\n");
    await git(project, "add", "src/a.ts");
    expect((await commit(project, "overridden", { COORD_RESERVATIONS: "off" })).code).toBe(0);
    // git commit <path> commits through an index of its own (GIT_INDEX_FILE), with nothing staged: the hook reads that one.
    await writeFile(join(project, "src", "a.ts"), "export const a = 3;\n");
    try {
      await git(project, "-c", "user.name=Pat", "-c", "user.email=pat@example.com", "commit", "-m", "by path", "--", "src/a.ts");
      expect.unreachable("the hook let a commit of src/a.ts by path through");
    } catch (e) {
      expect((e as { stderr: string }).stderr).toContain("src/a.ts: alpha holds src/**");
    }
    await git(project, "checkout", "--", "src/a.ts");
    await writeFile(join(project, "README.md"), "# project, again\n");
    await git(project, "add", "README.md");
    expect((await commit(project, "readme")).code).toBe(0);
    expect(await git(project, "log", "--format=%s")).toBe("readme\noverridden\nwarned\nfirst\n");

    // Once A releases them and B has fetched, B commits src/a.ts.
    await cli("release", "--all", "--now", "--dir", A);
    await cli("sync", "--dir", B);
    await writeFile(join(project, "src", "a.ts"), "export const a = 2;\n");
    await git(project, "add", "src/a.ts");
    expect((await commit(project, "free now")).code).toBe(0);
  });

  it("warns without --enforce; a broken coord warns, or refuses when enforced; a hook of someone else's is never overwritten", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const [A, B] = [dirOf("alpha"), dirOf("beta")];
    await cli("reserve", "src/**", "--now", "--dir", A);
    await cli("sync", "--dir", B);
    const project = await tempDir("coord-project-");
    cleanups.push(() => rm(project, { recursive: true, force: true }));
    await git(project, "init", "--quiet");
    await mkdir(join(project, "src"));
    await writeFile(join(project, "src", "a.ts"), "1\n");
    await git(project, "add", ".");
    expect((await cli("reserve", "hook", "install", "--repo", project, "--dir", B)).out).toContain("installed; it warns of a commit");
    const warned = await commit(project, "warned");
    expect(warned.code).toBe(0);
    expect(warned.err).toMatch(/src\/a\.ts: alpha holds src\/\*\*[\s\S]*committing anyway/);

    // coord's checkout gone: only a warning, unless enforced.
    const hook = join(project, ".git", "hooks", "pre-commit");
    const broken = (await readFile(hook, "utf8")).replace(`--dir ${B}`, `--dir ${B}-moved`);
    await writeFile(hook, broken);
    await writeFile(join(project, "src", "a.ts"), "2\n");
    await git(project, "add", ".");
    const survived = await commit(project, "coord broken");
    expect(survived.code).toBe(0);
    expect(survived.err).toContain("the reservations check could not run");
    await writeFile(hook, broken.replace("enforce=0", "enforce=1"));
    await writeFile(join(project, "src", "a.ts"), "3\n");
    await git(project, "add", ".");
    const enforced = await commit(project, "coord broken, enforced");
    expect(enforced.code).toBe(1);
    expect(enforced.err).toContain("COORD_RESERVATIONS=off");

    // Install again: coord's own hook is replaced; uninstall removes it; a foreign hook stays.
    expect((await cli("reserve", "hook", "install", "--enforce", "--repo", project, "--dir", B)).out).toContain("updated");
    expect((await cli("reserve", "hook", "uninstall", "--repo", project, "--dir", B)).out).toContain("coord's pre-commit hook removed");
    await writeFile(hook, "#!/bin/sh\necho mine\n", { mode: 0o755 });
    const refused = await cli("reserve", "hook", "install", "--repo", project, "--dir", B);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(
      /pre-commit is a pre-commit hook of someone else's, so coord left it alone; to check reservations from it, add this line to it .* reservations check --staged --hook --dir /,
    );
    expect((await cli("reserve", "hook", "uninstall", "--repo", project, "--dir", B)).code).toBe(2);
    expect(await readFile(hook, "utf8")).toBe("#!/bin/sh\necho mine\n");
  });
});
