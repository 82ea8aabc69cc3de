// The orders engine end to end on real git: crashes at every step,
// cancellation of a running task, agents (stand-in executables), secrets.
// ANY claims and takeover: any.e2e.test.ts. Pipelines across machines
// (after) and retries' backoff, on the in-memory hub: plan.test.ts.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { cli, hubFile, hubStatus, journal, makeFleet, pushOrders, setConfig, syncAfterCrash, waitFor, type Fleet, readLines as lines } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

describe("crash (kill -9) at every step of a task's life", () => {
  it.each(["claimed", "claim-pushed", "finished"])("at %s: never run twice for the same attempt; state right after the next sync", async (point) => {
    fleet = await makeFleet(["izzit7"]);
    await setConfig(dirOf("izzit7"), { maxParallel: 2 }); // room for the ANY claim beside the named task
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [
      { id: "any", to: "ANY", run: `echo any >> ${log}` },
      { id: "named", to: "izzit7", run: `echo named >> ${log}` },
    ]);
    // The crash is injected in this process only.
    const crash = await cliExecEnv(["sync", "--dir", dirOf("izzit7")], { COORD_TEST_CRASH: point });
    expect(crash.signal).toBe("SIGKILL");
    // The syncs after it run in this process: only the crash needs a process of its own.
    await syncAfterCrash(dirOf("izzit7"));
    await cli("sync", "--dir", dirOf("izzit7"));
    const ran = await lines(log);
    expect(ran.filter((l) => l === "any")).toHaveLength(1);
    expect(ran.filter((l) => l === "named")).toHaveLength(1);
    const status = await hubStatus(fleet);
    expect(status.orders.any).toMatchObject({ state: "completed" });
    expect(status.orders.named).toMatchObject({ state: "completed" });
  });
});

/** The built CLI with extra environment variables; resolves with its exit code or signal. */
async function cliExecEnv(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: string | null; out: string }> {
  const { spawn } = await import("node:child_process");
  const { CLI } = await import("./helpers.js");
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out })));
}

describe("control while a task runs", () => {
  it("cancelled: true stops a running task (its process group) and keeps it from starting elsewhere", async () => {
    fleet = await makeFleet(["izzit7"]);
    await setConfig(dirOf("izzit7"), { checkEvery: "1s" });
    const marker = join(fleet.root, "still-running");
    const orders = [{ id: "long", to: "izzit7", run: `sleep 60; touch ${marker}` }];
    await pushOrders(fleet, orders);
    // The sync runs in this process; the task is its own process group, which coord stops.
    const syncing = cli("sync", "--dir", dirOf("izzit7"));
    await waitFor(async () => (await journal(dirOf("izzit7"))).tasks.long?.state === "in_progress", 20_000, "the task to start");
    await pushOrders(fleet, [{ ...orders[0], cancelled: true }]);
    const { code } = await syncing;
    expect(code).toBe(0);
    const status = await hubStatus(fleet);
    expect(status.orders.long?.machines.izzit7).toMatchObject({ state: "cancelled", reason: "cancelled in ORDERS.json" });
  });
});

describe("agents", () => {
  it("runs the agent CLI headless with the prompt and model; a machine without it rejects the order", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const bin = join(fleet.root, "bin");
    await mkdir(bin);
    const calls = join(fleet.root, "calls.log");
    // A stand-in for the real CLI: records how it was called, never talks to a model.
    await writeFile(
      join(bin, "claude"),
      `#!/bin/sh\n[ "$1" = "--version" ] && { echo "2.1.3 (Claude Code)"; exit 0; }\n[ "$1" = "auth" ] && exit 0\nfor a in "$@"; do printf '[%s]' "$a"; done >> ${calls}\nprintf ' stdin:' >> ${calls}\ncat >> ${calls}\necho >> ${calls}\necho "reviewed 3 PRs"\n`,
    );
    await chmod(join(bin, "claude"), 0o755);
    const path = process.env.PATH;
    await pushOrders(fleet, [{ id: "review", to: ["izzit7", "soda-yeti"], agent: "claude", prompt: "Review the open PRs", model: "opus", cwd: fleet.root }]);
    try {
      process.env.PATH = `${bin}:${path}`;
      const r = await sync({ dir: dirOf("izzit7") });
      expect(r.ran).toEqual([expect.objectContaining({ id: "review", state: "completed" })]);
    } finally {
      process.env.PATH = path;
    }
    await sync({ dir: dirOf("soda-yeti") });
    // Headless, machine-readable, the prompt on stdin where no parser looks for options.
    expect((await readFile(calls, "utf8")).trim()).toBe("[-p][--output-format=stream-json][--verbose][--model=opus] stdin:Review the open PRs");
    const status = await hubStatus(fleet);
    expect(status.orders.review?.machines.izzit7).toMatchObject({ state: "completed" });
    expect(status.orders.review?.machines["soda-yeti"]).toMatchObject({ state: "rejected", reason: "soda-yeti lacks claude" });
    expect(await hubFile(fleet, "coordination/COMPUTER_izzit7.md")).toContain("reviewed 3 PRs");
  });
});

describe("dry run and bad input", () => {
  it("sync --dry-run shows exactly what the next real sync starts first (then it drains what ANY work is left)", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await setConfig(dirOf("izzit7"), { maxParallel: 2 });
    await pushOrders(fleet, [
      { id: "a", to: "izzit7", run: "true" },
      { id: "b", to: "izzit7", after: ["a"], run: "true" },
      { id: "c", to: "ANY", run: "true", priority: "high" },
      { id: "d", to: "ANY", run: "true" },
      { id: "e", to: "soda-yeti", run: "true" },
    ]);
    const dry = JSON.parse((await cli("sync", "--dir", dirOf("izzit7"), "--dry-run", "--json")).out);
    const real = await sync({ dir: dirOf("izzit7") });
    // The first round is what --dry-run said; then a slot is free again and d, still free, is claimed in the same sync.
    expect(dry.wouldRun.map((t: { id: string }) => t.id).sort()).toEqual(["a", "c"]);
    expect(
      real.ran
        .slice(0, 2)
        .map((t) => t.id)
        .sort(),
    ).toEqual(["a", "c"]);
    expect(real.ran.map((t) => t.id).sort()).toEqual(["a", "c", "d"]);
  });

  it("run and agent together, or a timeout like 'ten minutes': exit 3, the order and field named, nothing runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [
      { id: "ok", to: "izzit7", run: `echo ok >> ${log}` },
      { id: "both", to: "izzit7", run: "true", agent: "claude", prompt: "x" },
      { id: "slow", to: "izzit7", run: "true", timeout: "ten minutes" },
    ]);
    const r = await cli("sync", "--dir", dirOf("izzit7"));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/order "both"/);
    expect(r.err).toMatch(/order "slow" field timeout/);
    expect(await lines(log)).toEqual([]);
  });
});

describe("secrets", () => {
  it("values of env entries marked secret never reach the repository", async () => {
    fleet = await makeFleet(["izzit7"]);
    await pushOrders(fleet, [
      {
        id: "deploy",
        to: "izzit7",
        env: { TOKEN: { value: "hunter2-very-secret", secret: true }, MODE: "prod" },
        run: 'echo "using $TOKEN in $MODE"; echo ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      },
    ]);
    await sync({ dir: dirOf("izzit7") });
    const computer = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");
    expect(computer).toContain("using [REDACTED] in prod");
    expect(computer).not.toContain("hunter2-very-secret");
    expect(computer).not.toContain("ghp_abcdefghij");
    // The full log stays local, unredacted.
    const entry = (await journal(dirOf("izzit7"))).tasks.deploy;
    expect(await readFile(entry.log, "utf8")).toContain("hunter2-very-secret");
  });
});
