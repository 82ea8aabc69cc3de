// What a machine reports of its failed syncs (core/fleet/failures.ts), table-driven.
import { describe, expect, it } from "vitest";
import { currentRun, type FailureRecord, failuresText, reportedHealth, reportedHealthUntil, reportsFailures } from "../../../src/core/fleet/failures.js";

const NOW = new Date("2026-11-25T10:00:00.000Z");
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const GH006 = "the remote hub refused the push: GH006: Protected branch update failed for refs/heads/coord.";
const recovered = (clearedMinutes: number, refused = true) => ({ failures: 3, lastError: GH006, since: at(-30), clearedAt: at(clearedMinutes), ...(refused ? { refused } : {}) });

describe("reportedHealth: what a publish built now says of the machine's failures (heartbeat 10 min)", () => {
  it.each<[string, FailureRecord, ReturnType<typeof reportedHealth>]>([
    ["no failures", { failures: 0 }, undefined],
    ["2 failures of any kind: not yet reported", { failures: 2, lastError: "could not reach", since: at(-5) }, undefined],
    ["3 failures: stalled, while it lasts", { failures: 3, lastError: "disk full", since: at(-5) }, { failures: 3, lastError: "disk full", since: at(-5) }],
    [
      "1 refusal: reported at once, ended by the push that carries it",
      { failures: 1, lastError: GH006, since: at(-1), refused: true },
      { failures: 1, lastError: GH006, since: at(-1), refused: true, cleared: NOW.toISOString() },
    ],
    ["a refusal without its reason: nothing to say", { failures: 1, since: at(-1), refused: true }, undefined],
    ["cleared 9 minutes ago: still shown", { failures: 0, recovered: recovered(-9) }, { failures: 3, lastError: GH006, since: at(-30), refused: true, cleared: at(-9) }],
    ["cleared 10 minutes ago: one heartbeat passed, gone", { failures: 0, recovered: recovered(-10) }, undefined],
    ["a stalled run cleared: shown without refused", { failures: 0, recovered: recovered(-1, false) }, { failures: 3, lastError: GH006, since: at(-30), cleared: at(-1) }],
    ["failing again (not reported yet): the old run is not shown", { failures: 1, lastError: "x", since: at(-1), recovered: recovered(-1) }, undefined],
    ["a cleared time that is no time: gone", { failures: 0, recovered: { ...recovered(0), clearedAt: "soon" } }, undefined],
  ])("%s", (_what, record, expected) => expect(reportedHealth(record, NOW, 600)).toEqual(expected));
});

describe("the rest of the rule", () => {
  it.each<[FailureRecord, boolean]>([
    [{ failures: 0 }, false],
    [{ failures: 2, lastError: "x" }, false],
    [{ failures: 3, lastError: "x" }, true],
    [{ failures: 1, lastError: "x", refused: true }, true],
    [{ failures: 5 }, false],
  ])("reportsFailures(%j) = %s", (record, expected) => expect(reportsFailures(record)).toBe(expected));

  it("reportedHealthUntil: a cleared run leaves the file one heartbeat after it cleared, and what it answers does not change before", () => {
    const record: FailureRecord = { failures: 0, recovered: recovered(-3) };
    const until = reportedHealthUntil(record, 600)!;
    expect(until.toISOString()).toBe(at(7));
    expect(reportedHealth(record, new Date(until.getTime() - 1), 600)).toBeDefined();
    expect(reportedHealth(record, until, 600)).toBeUndefined();
    expect(reportedHealthUntil({ failures: 2, lastError: "x" }, 600)).toBeUndefined();
  });

  it("says a refusal with the server's words and its span, and a stall with its count", () => {
    expect(failuresText({ failures: 3, lastError: GH006, since: "T1", refused: true })).toBe(`is refused by the hub since T1 (3 syncs): ${GH006}`);
    expect(failuresText({ failures: 1, lastError: GH006, since: "T1", refused: true, cleared: "T2" })).toBe(`was refused by the hub from T1 until T2 (1 sync): ${GH006}`);
    expect(failuresText({ failures: 4, lastError: "disk full", since: "T1" })).toBe("is stalled: 4 failed syncs in a row since T1; last error: disk full");
    expect(failuresText({ failures: 4, lastError: "disk full", since: "T1", cleared: "T2" })).toBe("was stalled: 4 failed syncs in a row from T1 until T2; last error: disk full");
    expect(currentRun({ failures: 1, lastError: GH006, since: "T1", refused: true })).toEqual({ failures: 1, lastError: GH006, since: "T1", refused: true });
  });
});
