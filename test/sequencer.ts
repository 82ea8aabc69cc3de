// Longest files first. The suite runs on a fresh clone in CI, where vitest has
// no durations cached and keeps the files in name order within a project:
// then a long file that sorts late (review.e2e, unattended.e2e) starts last and
// the run waits for it alone. Files named here start first, in this order (the
// longest as measured, `npm test` on 2 cores); the rest keep vitest's order.
// Once vitest has a cache (a second run on the same machine), its own order by
// measured duration is used as is.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const LONGEST = [
  "budget.e2e",
  "budget-drain.e2e",
  "any.e2e",
  "review.e2e",
  "sync.e2e",
  "concurrency.e2e",
  "fencing.e2e",
  "unattended.e2e",
  "messages.e2e",
  "engine.e2e",
  "messages-recovery.e2e",
  "daemon.e2e",
  "logs.e2e",
  "messages-volume.e2e",
  "package.e2e",
  "hooks.e2e",
  "hostile.e2e",
];

const rank = (spec: TestSpecification) => {
  const i = LONGEST.findIndex((name) => spec.moduleId.endsWith(`/${name}.test.ts`));
  return i === -1 ? LONGEST.length : i;
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const cached = sorted.some((spec) => this.ctx.cache.getFileTestResults(`${spec.project.name}:${spec.moduleId.slice(this.ctx.config.root.length + 1)}`));
    if (cached) return sorted;
    // Stable: projects stay grouped as vitest ordered them; within one, the known-long files first.
    const group = new Map<string, number>();
    for (const spec of sorted) if (!group.has(spec.project.name)) group.set(spec.project.name, group.size);
    return [...sorted].sort((a, b) => group.get(a.project.name)! - group.get(b.project.name)! || rank(a) - rank(b));
  }
}
