// The publish loop (src/sync/cas.ts) on the in-memory hub: machines that race
// for the same tip lose no update, in milliseconds instead of a fleet on git.
import { describe, expect, it } from "vitest";
import { ORDERS_FILE, STATUS_MD } from "../src/core/trust/ownership.js";
import { commitOf, type Hub, MACHINES_BRANCH } from "../src/git/hub.js";
import { MemoryRemote } from "../src/git/memory-hub.js";
import { commitOwned, publishWithRetry } from "../src/sync/cas.js";

const computerPath = (m: string) => `coordination/COMPUTER_${m}.md`;

/** STATUS.md as every machine derives it: a line per machine file at the tip it builds on. */
function statusOf(files: Map<string, string>): string {
  return `${[...files]
    .filter(([p]) => p.startsWith("coordination/COMPUTER_"))
    .map(([p, text]) => `${p}: ${text}`)
    .sort()
    .join("\n")}\n`;
}

/** One machine's publish of its own file (and the derived STATUS.md) with compare-and-swap. */
function publish(hub: Hub, machine: string, text: string, rejected: () => void): Promise<string> {
  return publishWithRetry(
    {
      attempt: async () => {
        const tip = await hub.fetch();
        const files = tip ? await hub.readFiles(tip, []) : new Map<string, string>();
        files.set(computerPath(machine), text);
        const changes = new Map([
          [computerPath(machine), text],
          [STATUS_MD, statusOf(files)],
        ]);
        const commit = await commitOwned(hub, machine, tip, changes, `coord: ${machine} ${text}`);
        return { commit, landed: async () => commit };
      },
      push: (commit) => hub.push(commit),
      rejected,
      gaveUp: (n) => new Error(`${machine} gave up after ${n} rejected pushes`),
    },
    { budgetMs: 60_000, maxAttempts: 50, sleep: async () => {}, random: () => 0 },
  );
}

describe("the publish loop on the in-memory hub", () => {
  it("five machines publishing three times each at once: every push lands after its lost races, no update is lost", async () => {
    const remote = new MemoryRemote();
    const person = remote.client();
    expect(await person.push(await person.commitFiles(undefined, new Map([[ORDERS_FILE, "{}"]]), { name: "A Person", email: "p@example.com" }, "orders"), ["people"])).toBe(true);
    const machines = ["m1", "m2", "m3", "m4", "m5"];
    let rejected = 0;
    const started = performance.now();
    await Promise.all(
      machines.map(async (m) => {
        const hub = remote.client();
        for (let round = 1; round <= 3; round++) await publish(hub, m, `round ${round}`, () => rejected++);
      }),
    );
    const elapsed = performance.now() - started;

    expect(rejected).toBeGreaterThan(0); // they did race for the same tips
    expect(remote.pushes).toEqual({ landed: 1 + 15, refused: rejected });
    const tip = (await person.fetch())!;
    const files = await person.readFiles(tip, []);
    for (const m of machines) {
      expect(files.get(computerPath(m))).toBe("round 3");
      expect(await person.pathHistory(tip, computerPath(m), 10)).toHaveLength(3);
    }
    // The derived file was rebuilt on each new tip: it holds every machine's latest, none lost.
    expect(files.get(STATUS_MD)).toBe(statusOf(files));
    expect(files.get(ORDERS_FILE)).toBe("{}");
    // Every machine commit is on the machines' branch; the people's branch holds the person's one commit.
    expect(remote.tip()).toBe(commitOf(tip, "people"));
    expect([...remote.lineage(remote.tip()!)]).toHaveLength(1);
    expect(remote.tip(MACHINES_BRANCH)).toBe(commitOf(tip, "machines"));
    expect(elapsed).toBeLessThan(5000); // milliseconds in fact; a fleet on git takes seconds
  });

  it("a machine's publish that would write another machine's file is refused before anything is pushed", async () => {
    const remote = new MemoryRemote();
    const hub = remote.client();
    await expect(commitOwned(hub, "m1", undefined, new Map([[computerPath("m2"), "forged"]]), "forged")).rejects.toThrow(/does not own/);
    expect(remote.tip()).toBeUndefined();
    expect(remote.pushes).toEqual({ landed: 0, refused: 0 });
  });
});
