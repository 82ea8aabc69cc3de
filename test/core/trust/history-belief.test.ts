// Whether a change in the history is believed (core/trust/history-belief.ts): coord log's walk, as a sync judges.
import { describe, expect, it } from "vitest";
import { type ChangeToJudge, judgeChange } from "../../../src/core/trust/history-belief.js";

const machine = (over: Partial<ChangeToJudge>): ChangeToJudge => ({ kind: "machine", owner: "sam", checked: true, root: false, ...over });
const orders = (over: Partial<ChangeToJudge>): ChangeToJudge => ({ kind: "orders", checked: true, root: false, ...over });

describe("judgeChange", () => {
  it.each<[string, ChangeToJudge, ReturnType<typeof judgeChange>]>([
    ["its owner's key unknown here: as written", machine({ checked: false }), { believed: true }],
    ["signed by its owner", machine({ verdict: { status: "G", signer: "sam" } }), { believed: true }],
    ["unsigned", machine({ verdict: { status: "N", signer: "" } }), { believed: false, said: true, why: "not signed: not by sam, whose file it is" }],
    ["signed by another pinned machine", machine({ verdict: { status: "G", signer: "mal" } }), { believed: false, said: true, why: "signed by mal: not by sam, whose file it is" }],
    ["no verdict (a commit git could not read)", machine({}), { believed: false, said: true, why: expect.stringMatching(/: not by sam, whose file it is$/) }],
    ["a new root by another machine: its copy, not believed, not said", machine({ root: true, verdict: { status: "G", signer: "mal" } }), { believed: false, said: false }],
    ["a new root by its owner", machine({ root: true, verdict: { status: "G", signer: "sam" } }), { believed: true }],
    [
      "a machine ORDERS.json's keys do not name, even signed by itself",
      machine({ unnamed: true, verdict: { status: "G", signer: "sam" } }),
      { believed: false, said: true, why: "sam is not among ORDERS.json's keys" },
    ],
    ["orders, signed orders off: as written", orders({ checked: false, verdict: { status: "N", signer: "" } }), { believed: true }],
    ["orders signed by an allowed signer", orders({ verdict: { status: "G", signer: "alice@example.com" } }), { believed: true }],
    ["orders unsigned", orders({ verdict: { status: "N", signer: "" } }), { believed: false, said: true, why: "not signed" }],
    ["orders by a key not allowed", orders({ verdict: { status: "U", signer: "" } }), { believed: false, said: true, why: "signed by a key that is not an allowed signer" }],
  ])("%s", (_, change, want) => {
    expect(judgeChange(change)).toEqual(want);
  });
});
