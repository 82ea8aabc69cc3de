// Moving a hub of the old layout (machines' files on the people's branch) to
// two branches, in one atomic push of both: the machines' branch is created
// from the people's tip with the machines' files, and the people's branch
// gets tombstones that stop an older coord from writing there
// (core/setup/upgrade.ts). Done by the first sync of this version that finds the
// old layout, or by `coord hub upgrade` as a person. Nothing is lost: every
// machine file, message, receipt and claim is on the machines' branch as it
// was, and a sync carries on from there.
import { historyTrailer } from "../core/hub/status-history.js";
import { isOldLayout, upgradeChanges } from "../core/setup/upgrade.js";
import { CoordError, EXIT } from "../errors.js";
import { type Author, type Hub, joinTip, MACHINES_BRANCH, splitTip } from "../git/hub.js";
import { publishWithRetry } from "./cas.js";

export type UpgradeOutcome = "upgraded" | "already";

/** Upgrades the hub when its tip is of the old layout: the tip read after, and whether this call upgraded it. */
export async function upgradeHub(
  hub: Hub,
  opts: { author: Author; now: () => Date; log: (line: string) => void; budgetMs: number; branch: string },
): Promise<{ tip: string | undefined; outcome: UpgradeOutcome }> {
  let outcome: UpgradeOutcome = "already";
  const tip = await publishWithRetry<string | undefined>(
    {
      attempt: async () => {
        const tip = await hub.fetch();
        const t = tip === undefined ? undefined : splitTip(tip);
        if (!t || t.machines) return { done: tip };
        const all = await hub.readFiles(t.people, []);
        if (!isOldLayout(all)) return { done: tip };
        opts.log(`this hub keeps the machines' files on ${opts.branch} (an older coord): moving them to the branch ${MACHINES_BRANCH}`);
        const changes = upgradeChanges(all, MACHINES_BRANCH, opts.now());
        const [machines, people] = await Promise.all([
          // Its history, main's before, is kept: the bounded history counts from here (core/hub/status-history.ts).
          hub.commitFiles(
            t.people,
            changes.machines,
            opts.author,
            `coord: the machines' files move to the branch ${MACHINES_BRANCH}\n\n${historyTrailer({ depth: 1, since: opts.now() })}`,
          ),
          hub.commitFiles(t.people, changes.people, opts.author, `coord: the machines publish on the branch ${MACHINES_BRANCH} from now on (coord hub upgrade)`),
        ]);
        const next = joinTip(people, machines);
        return {
          commit: next,
          landed: async () => {
            outcome = "upgraded";
            opts.log(`upgraded: the machines' files are on ${MACHINES_BRANCH}, and an older coord that reads ${opts.branch} stops and says to upgrade`);
            return next;
          },
        };
      },
      push: (tip) => hub.push(tip, ["people", "machines"]),
      gaveUp: (n, ms) =>
        new CoordError(`gave up upgrading the hub after ${n} rejected pushes in ${Math.round(ms / 1000)} s (the remote is very busy); the next sync tries again`, EXIT.FAILURE),
    },
    { budgetMs: opts.budgetMs },
  );
  return { tip, outcome };
}
