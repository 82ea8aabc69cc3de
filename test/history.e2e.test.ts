// The machines' branch keeps a bounded history (ORDERS.json "hub": {"statusHistory": …}): past the limit, a
// machine's publish replaces it with one root commit holding the same files, as a compare-and-swap. On real
// git: every machine carries on across the rewrite, losing no message, receipt, claim or result, re-running
// nothing; a machine that joins afterwards joins.
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { init } from "../src/actions/init.js";
import { inbox } from "../src/actions/messages.js";
import { MIN_HISTORY_COMMITS } from "../src/core/hub/status-history.js";
import { sync } from "../src/sync/sync.js";
import { cli, git, hasSshKeygen, hubStatus, makeFleet, ordersText, pushOrders, readLines, type Fleet, UNLIMITED, sendNow } from "./helpers.js";
import { patient } from "./patience.js";

const haveSshKeygen = await hasSshKeygen();

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

// The tests are fixed rounds of syncs, with no wait of their own: their timeouts guard against a hang (a sync that waits
// forever, or sits out its push budget of 60 s at its publishes), not the machine's speed. A round's steps take 0.4-0.7 s
// on an idle 2-core machine and 2-4 s on one loaded 4-5 times over; CI's, loaded, ran out of a 60 s timeout once
// (2026-11-26). Idle, the tests take 22, 8 and 6 s; loaded so, 26, 25-40 and 35 s: 180 s for about 12 publishes,
// 360 s for about 24.

const depth = async (f: Fleet) => Number((await git(f.hubPath, "rev-list", "--count", "coord")).trim());
const root = async (f: Fleet) => (await git(f.hubPath, "rev-list", "--max-parents=0", "coord")).trim();
const coordUpdates = async (f: Fleet) => (await git(f.hubPath, "reflog", "show", "--format=%H", "refs/heads/coord")).split("\n").filter(Boolean).length;

describe("a bounded history of the machines' branch", () => {
  // At the smallest limit allowed (MIN_HISTORY_COMMITS), so that 20 publishes on top of the fleet's first 3 commits
  // replace the branch twice, the second time a branch that began as a replacement (each replacement costs as much
  // at 10 commits as at 10,000: the branch holds the same files); never replaced, it would pass the bound of 20.
  it("after 20 publishes with a limit of 10 commits the branch is at most 20 deep; nothing is lost or run again; a new machine joins", { timeout: patient(360_000) }, async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    const run = `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}`;
    const orders = [
      { id: "for-a", to: "a", run },
      { id: "for-b", to: "b", run },
      { id: "anyone", to: "ANY", run },
    ];
    const limit = MIN_HISTORY_COMMITS;
    const rounds = 10;
    await pushOrders(f, ordersText(orders, { statusHistory: limit, keepStatusHistory: true, ...UNLIMITED }));
    const before = await coordUpdates(f);
    let deepest = 0;
    // The branch's root after each publish: a new one is a replacement.
    const roots = new Set<string>([await root(f)]);
    const published = async () => {
      deepest = Math.max(deepest, await depth(f));
      roots.add(await root(f));
    };
    for (let i = 0; i < rounds; i++) {
      // a publishes a message, b publishes its receipt (and both run their orders on the way).
      await sendNow({ dir: f.machines.a!, to: "b", text: `message ${i}` });
      await published();
      await sync({ dir: f.machines.b! });
      await published();
    }
    await sync({ dir: f.machines.a! });
    await published();
    const publishes = (await coordUpdates(f)) - before;
    expect(publishes).toBeGreaterThanOrEqual(2 * rounds);
    expect(deepest).toBeLessThanOrEqual(2 * limit);
    expect(deepest).toBeGreaterThan(limit / 2); // the limit, not something else, bounds it
    const replacements = roots.size - 1;
    expect(replacements).toBeGreaterThanOrEqual(2);
    // Each replacement kept what came before under refs/coord-history/ (keepStatusHistory).
    const kept = (await git(f.hubPath, "for-each-ref", "--format=%(refname)", "refs/coord-history/")).split("\n").filter(Boolean);
    expect(kept).toHaveLength(replacements);
    expect((await git(f.hubPath, "log", "-1", "--format=%B", "coord")).trim()).toMatch(/^Coord-History: \d+ \S+Z$/m);

    // Nothing lost: every message arrived once, in order; each order ran once, and not again.
    expect((await inbox({ dir: f.machines.b!, all: true })).messages.map((m) => m.text)).toEqual(Array.from({ length: rounds }, (_, i) => `message ${i}`));
    for (const m of ["a", "b"]) expect((await sync({ dir: f.machines[m]! })).ran).toEqual([]);
    const ran = await readLines(log);
    expect(ran.filter((l) => l.startsWith("for-a"))).toEqual(["for-a a"]);
    expect(ran.filter((l) => l.startsWith("for-b"))).toEqual(["for-b b"]);
    expect(ran.filter((l) => l.startsWith("anyone"))).toHaveLength(1);
    const status = await hubStatus(f);
    for (const o of orders) expect(status.orders[o.id]?.state, o.id).toBe("completed");

    // A machine joins after the rewrites: it registers, sees the fleet, and runs nothing done already.
    const c = join(f.root, "c");
    await init({ dir: c, name: "c", remote: f.hubPath });
    expect((await sync({ dir: c })).ran).toEqual([]);
    expect(Object.keys((await hubStatus(f)).machines).sort()).toEqual(["a", "b", "c"]);
    // coord log says how far back the machines' history goes.
    expect((await cli("log", "for-a", "--dir", c)).out).toMatch(/the machines' history goes back to \S+Z, \d+ commits/);
  });

  it("a hub that blocks force pushes on coord refuses the replacement: the machine says so once and publishes on top, no sync fails", { timeout: patient(180_000) }, async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    // As a protected branch does: any update of coord that is not a fast-forward is refused.
    const hook = join(f.hubPath, "hooks", "pre-receive");
    await writeFile(
      hook,
      `#!/bin/sh
while read old new ref; do
  if [ "$ref" = refs/heads/coord ] && [ "$old" != 0000000000000000000000000000000000000000 ] && ! git merge-base --is-ancestor "$old" "$new"; then
    echo "coord is protected: no force pushes" >&2; exit 1
  fi
done
`,
    );
    await chmod(hook, 0o755);
    await pushOrders(f, ordersText([], { statusHistory: 10, ...UNLIMITED }));
    const warnings: string[] = [];
    const first = await root(f);
    // 6 rounds, 12 publishes on top of the fleet's first 3 commits: each machine publishes past the limit twice or
    // more, and says so once.
    for (let i = 0; i < 6; i++) {
      const sent = await sendNow({ dir: f.machines.a!, to: "b", text: `message ${i}` });
      warnings.push(...(sent.published?.warnings ?? []));
      warnings.push(...(await sync({ dir: f.machines.b! })).warnings);
    }
    // Not replaced: the same root, and it grew past the limit.
    expect(await root(f)).toBe(first);
    expect(await depth(f)).toBeGreaterThan(12);
    // Each machine said it once (then waits a day before it tries again), with what to do.
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(w).toMatch(/^the hub refused to replace the branch coord .*force pushes.*statusHistory/);
    expect((await inbox({ dir: f.machines.b!, all: true })).messages).toHaveLength(6);
  });

  it.skipIf(!haveSshKeygen)("a machine that verifies other machines' signed files reads on across replacements: every message arrives", { timeout: patient(180_000) }, async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    expect((await cli("trust", "key", "--dir", f.machines.a!)).code).toBe(0);
    await sync({ dir: f.machines.a! }); // signed, and its file publishes the key
    expect((await cli("trust", "machines", "on", "--dir", f.machines.b!)).code).toBe(0);
    await sync({ dir: f.machines.b! }); // pins a's key
    await pushOrders(f, ordersText([], { statusHistory: 10, ...UNLIMITED }));
    const roots = new Set<string>();
    // 5 rounds on top of the fleet's first 3 commits: the fourth's receipt replaces the branch, the fifth's message
    // comes across the new root.
    for (let i = 0; i < 5; i++) {
      await sendNow({ dir: f.machines.a!, to: "b", text: `message ${i}` });
      const r = await sync({ dir: f.machines.b! });
      expect(r.warnings).toEqual([]);
      roots.add(await root(f));
    }
    expect(roots.size).toBeGreaterThanOrEqual(2); // replaced at least once along the way
    expect((await inbox({ dir: f.machines.b!, all: true })).messages.map((m) => m.text)).toEqual(Array.from({ length: 5 }, (_, i) => `message ${i}`));
    expect(await git(f.hubPath, "show", "coord:STATUS.md")).not.toMatch(/refused/);
  });
});
