// The terminal views on real git: coord status <machine>, --order <id> and
// --watch against a bare hub and checkouts made by coord init, and the line
// coord logs -f prints when it is following. Nothing here is bounded by wall
// time: each wait ends on what the output says (the test's own timeout is the
// only bound).
import type { ChildProcess } from "node:child_process";
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type StatusResult, watchStatus } from "../src/actions/status.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliProcess, type Fleet, makeFleet, pushOrders } from "./helpers.js";

let fleet: Fleet | undefined;
const saved = { FORCE_COLOR: process.env.FORCE_COLOR, NO_COLOR: process.env.NO_COLOR };
beforeEach(() => {
  // Whatever the runner's environment says, these tests see no terminal and ask for no colour.
  delete process.env.FORCE_COLOR;
  delete process.env.NO_COLOR;
});
afterEach(async () => {
  for (const [k, v] of Object.entries(saved))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  await fleet?.cleanup();
  fleet = undefined;
});

const ESC = "\x1b";
const order = (id: string, to: unknown, run: string, extra: object = {}) => ({ id, to, run, ...extra });

/** A fleet of two with a failed order, one blocked on it for good, one rejected and one done everywhere. */
async function fleetWithFailures(): Promise<Fleet> {
  const f = await makeFleet(["m1", "m2"]);
  await pushOrders(f, [
    order("bad", "m1", "echo step one; echo step two >&2; exit 2"),
    order("after-bad", "m2", "echo never", { after: ["bad"] }),
    order("gpu", "m2", "echo never", { requires: ["gpu"] }),
    order("fine", "ALL", "echo fine on $COORD_MACHINE"),
  ]);
  for (const name of ["m1", "m2", "m1"]) await sync({ dir: f.machines[name]! });
  return f;
}

/** The environment of a CLI started by a test: no colour asked for either way. */
function plainEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  return env;
}

/** Resolves when `child`'s `stream` output satisfies `done` (its text so far); the text then. */
function untilOutput(child: ChildProcess, stream: "stdout" | "stderr", done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const s = child[stream]!;
    const onData = (d: Buffer) => {
      text += d.toString();
      if (done(text)) {
        s.off("data", onData);
        resolve(text);
      }
    };
    s.on("data", onData);
    child.once("close", (code) => (done(text) ? resolve(text) : reject(new Error(`exited ${code} before the output expected; it said: ${text}`))));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once("close", (code) => r(code))));

describe("coord status <machine> and --order <id>", () => {
  it("show one machine and one order in detail, failures first, from the machines' files", async () => {
    fleet = await fleetWithFailures();
    const dir = fleet.machines.m1!;

    const m1 = await cli("status", "m1", "--dir", dir);
    expect(m1.code, m1.err).toBe(0);
    expect(m1.out).not.toContain(ESC);
    const lines = m1.out.split("\n");
    expect(lines[0]).toBe("m1: online · idle");
    expect(lines[1]).toMatch(/^ {2}last seen +(just now|\d+ s ago|\d+ min ago) \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    expect(m1.out).toMatch(/heartbeat +every 15 min: stale after 22 min without news, offline after 45 min/);
    expect(m1.out).toMatch(/capabilities +arch \S+, git \S+, node \S+, os linux/);
    const table = lines.slice(lines.findIndex((l) => l.startsWith("ORDER ")) + 2);
    expect(table[0]).toMatch(/^bad\s+1\s+failed\s+1\s+2\s+finished .*exit code 2 · retries exhausted$/);
    expect(table[1]).toMatch(/^fine\s+1\s+completed\s+1\s+0\s+finished /);
    expect(m1.out).toContain("bad: last lines of output\n    | step one\n    | step two");

    const bad = await cli("status", "--order", "bad", "--dir", dir);
    expect(bad.code, bad.err).toBe(0);
    expect(bad.out.split("\n").slice(0, 4)).toEqual(["bad (rev 1): failed", "  to       m1", "  runs     echo step one; echo step two >&2; exit 2", "  retries  0"]);
    expect(bad.out).toMatch(/\nm1\s+failed\s+1\s+2\s+(just now|\d+ s ago)\s+(just now|\d+ s ago)\s+\S+ m?s\s+exit code 2 · retries exhausted\n/);
    expect(bad.out).toContain("m1: last lines of output\n    | step one");

    const blocked = await cli("status", "--order", "after-bad", "--dir", dir);
    expect(blocked.out).toMatch(/why +dependency bad failed/);
    expect(blocked.out).toMatch(/\nm2\s+blocked\s+0\s+-/);
    const fine = await cli("status", "--order", "fine", "--dir", dir);
    expect(fine.out).toContain("m2: output\n    | fine on m2");

    // The fleet: failures first, then blocked, then rejected.
    const all = await cli("status", "--dir", dir);
    expect(all.out).not.toContain(ESC);
    const order = [
      "FAILED",
      "  bad on m1: exit code 2 · attempt 1, retries exhausted",
      "BLOCKED",
      "  after-bad on m2: dependency bad failed",
      "REJECTED",
      "  gpu on m2: m2 lacks gpu",
    ];
    const at = order.map((l) => all.out.split("\n").findIndex((x) => x.startsWith(l)));
    expect(
      at.every((i) => i >= 0),
      all.out,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Last, what this machine may read and push, and how often a daemon here looks (no daemon runs in this test).
    expect(all.out.trimEnd().split("\n").at(-1)).toMatch(/^m\d \(this machine\), on a hub on a path: .*; no daemon runs here: it would take a look every 1 s/);
  });

  it("--json gives that machine or that order; an unknown name is one sentence with the closest, exit 2", async () => {
    fleet = await fleetWithFailures();
    const dir = fleet.machines.m2!;
    const m = JSON.parse((await cli("status", "m1", "--json", "--dir", dir)).out);
    expect(m).toMatchObject({ name: "m1", state: "idle", presence: "online", heartbeat: 900, tasks: { bad: { rev: 1, state: "failed", exitCode: 2, retriesExhausted: true } } });
    expect(m.commit).toMatch(/^[0-9a-f]{40}$/);
    const o = JSON.parse((await cli("status", "--order", "bad", "--json", "--dir", dir)).out);
    expect(o).toMatchObject({ id: "bad", rev: 1, state: "failed", to: "m1", machines: { m1: { state: "failed", attempts: 1 } } });
    expect(o.machines.m1.output).toBe("step one\nstep two");

    const typo = await cli("status", "m", "--dir", dir);
    expect([typo.code, typo.out, typo.err]).toEqual([2, "", 'coord: there is no machine "m" in the fleet (did you mean m1?); the machines are m1, m2']);
    const none = await cli("status", "--order", "bda", "--dir", dir);
    expect([none.code, none.err]).toEqual([2, 'coord: there is no order "bda" in ORDERS.json (did you mean bad?); the orders are bad, after-bad, gpu, fine']);
    const both = await cli("status", "m1", "--order", "bad", "--dir", dir);
    expect([both.code, both.err]).toEqual([2, "coord: give a machine or --order <id>, not both"]);
    // --watch refuses an unknown name at its first refresh, and ends.
    const watched = await cli("status", "m9", "--watch", "--every", "0.1s", "--dir", dir);
    expect([watched.code, watched.err]).toEqual([2, 'coord: there is no machine "m9" in the fleet (did you mean m1?); the machines are m1, m2']);
  });
});

describe("coord status --watch", () => {
  it("shows each refresh: an order pushed meanwhile appears; a remote gone shows the last fetched state, said stale, and goes on", async () => {
    fleet = await makeFleet(["m1", "m2"]);
    const f = fleet;
    await pushOrders(f, [order("first", "m1", "true")]);
    const controller = new AbortController();
    const seen: { result?: StatusResult; error?: unknown }[] = [];
    let step: Promise<void> | undefined;
    let stage = 0;
    const hub = f.hubPath;
    // Each stage waits for what the previous one did to show in a refresh.
    await watchStatus({
      dir: f.machines.m1!,
      everyMs: 20,
      signal: controller.signal,
      show: (refresh) => {
        seen.push(refresh);
        const orders = Object.keys(refresh.result?.status.orders ?? {});
        if (stage === 0 && orders.includes("first")) {
          stage = 1;
          step = pushOrders(f, [order("first", "m1", "true"), order("second", "m2", "true")]);
        } else if (stage === 1 && orders.includes("second")) {
          stage = 2;
          step = rename(hub, `${hub}.away`); // the remote goes away
        } else if (stage === 2 && refresh.result?.stale) {
          stage = 3;
        } else if (stage === 3) controller.abort(); // one more refresh after the stale one: it goes on
      },
    });
    await step;
    await rename(`${hub}.away`, hub);
    expect(stage).toBe(3);
    const stale = seen.filter((r) => r.result?.stale);
    expect(stale.length).toBeGreaterThanOrEqual(2);
    expect(stale[0]!.result!.stale).toMatch(/showing the fleet as of the last fetch/);
    expect(Object.keys(stale.at(-1)!.result!.status.orders)).toEqual(["first", "second"]); // the last fetched state
  });

  it("the CLI without a terminal: each refresh after a line with its time, no escape code; Ctrl-C ends it with exit 0", async () => {
    fleet = await makeFleet(["m1"]);
    await pushOrders(fleet, [order("first", "m1", "true")]);
    const child = cliProcess(["status", "--watch", "--every", "0.1s", "--dir", fleet.machines.m1!], { env: plainEnv() });
    const code = exited(child);
    const text = await untilOutput(child, "stdout", (t) => (t.match(/^first\s+1\s+queued/gm) ?? []).length >= 2);
    child.kill("SIGINT");
    expect(await code).toBe(0);
    expect(text).not.toContain(ESC);
    const frames = text.split(/^--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ---$/m);
    expect(frames[0]).toBe(""); // the separator comes first
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const frame of frames.slice(1, 3)) expect(frame).toMatch(/^1 machine: 1 online · 1 order: 1 queued$/m);
  });
});

describe("coord logs -f", () => {
  it("says on stderr that it is following, then prints what is appended; Ctrl-C ends it with exit 0", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    await sync({ dir }); // a record before, not printed (-n 0)
    const child = cliProcess(["logs", "-f", "-n", "0", "--dir", dir], { env: plainEnv() });
    const code = exited(child);
    const ready = await untilOutput(child, "stderr", (t) => t.includes("\n"));
    expect(ready).toBe(`following ${join(dir, ".git", "coord", "coord.log")} — Ctrl-C to stop\n`);
    const appended = untilOutput(child, "stdout", (t) => / sync m1 ok: /.test(t));
    await sync({ dir }); // appended after the ready line: printed
    await appended;
    child.kill("SIGINT");
    expect(await code).toBe(0);
  });
});
