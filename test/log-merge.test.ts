// coord log merges the people's branch and the machines' by cause where whole-second times tie.
import { describe, expect, it } from "vitest";
import { mergeByCause } from "../src/actions/log.js";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const c = (sha: string, s: number, orders?: string) => ({ sha, at: at(s), who: sha, paths: [], ...(orders ? { orders } : {}) });

describe("mergeByCause", () => {
  // people: P1 (0 s), P2 (1 s); `rank` maps every people's commit since P1 (listed or not) to the latest listed one.
  const people = [c("P1", 0), c("P2", 1)];
  const rank = new Map([
    ["P1", 0],
    ["N1", 0], // a commit after P1 that did not change ORDERS.json
    ["P2", 1],
  ]);
  it.each([
    ["built on P1, same second as P2: after P1, before P2", [c("M", 1, "P1")], ["P1", "M", "P2"]],
    ["built on a commit between P1 and P2, same second as P2", [c("M", 1, "N1")], ["P1", "M", "P2"]],
    ["built on P2, in the same second: after it", [c("M", 1, "P2")], ["P1", "P2", "M"]],
    ["built on P2, its time earlier (a clock behind): still after it", [c("M", 0, "P2")], ["P1", "P2", "M"]],
    ["no trailer (made before the upgrade): by time, the machine first on a tie", [c("M", 1)], ["P1", "M", "P2"]],
    ["built on a commit older than the list: by time", [c("M", 2, "OLD")], ["P1", "P2", "M"]],
    ["two machines' commits keep their own order", [c("M1", 0, "P1"), c("M2", 1, "P2")], ["P1", "M1", "P2", "M2"]],
  ])("%s", (_what, machines, want) => {
    expect(mergeByCause(people, machines, rank).map((e) => e.sha)).toEqual(want);
  });
});
