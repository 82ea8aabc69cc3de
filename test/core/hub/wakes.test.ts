import { describe, expect, it } from "vitest";
import { lookOf, MAX_OTHERS_SPREAD_MS, syncSpreadOf, wakeRefOf, wakesOf } from "../../../src/core/hub/wakes.js";
import { messagePath, renderMessageFile, type MessageFile } from "../../../src/core/messages/messages.js";
import { moveSpreadOf } from "../../../src/core/hub/reads.js";

const file = (from: string, to: string, seqs: number[]): string => {
  const f: MessageFile = {
    coord: 1,
    from,
    to,
    next: (seqs.at(-1) ?? 0) + 1,
    messages: seqs.map((seq) => ({ seq, at: "2026-11-27T07:00:00.000Z", priority: "normal" as const, text: `m${seq}` })),
  };
  return renderMessageFile(f);
};
const orders = (...entries: object[]) => JSON.stringify({ version: 1, orders: entries });

describe("which machines a publish wakes", () => {
  const ab = messagePath("a", "b");
  const ac = messagePath("a", "c");
  const all = messagePath("a", "ALL");
  const mine = "coordination/orders/a.json";
  it.each<[string, [string, string | null][], [string, string][], string[]]>([
    ["a first message to b", [[ab, file("a", "b", [1])]], [], ["b"]],
    ["a second message to b", [[ab, file("a", "b", [1, 2])]], [[ab, file("a", "b", [1])]], ["b"]],
    ["b's file pruned of an old message: nothing new", [[ab, file("a", "b", [2])]], [[ab, file("a", "b", [1, 2])]], []],
    [
      "messages to b and c, each woken once",
      [
        [ab, file("a", "b", [1])],
        [ac, file("a", "c", [4])],
      ],
      [],
      ["b", "c"],
    ],
    ["a broadcast wakes nobody", [[all, file("a", "ALL", [1])]], [], []],
    ["a deleted message file wakes nobody", [[ab, null]], [[ab, file("a", "b", [1])]], []],
    ["another machine's message file is not this publish's", [[messagePath("c", "b"), file("c", "b", [1])]], [], []],
    ["a message file that does not parse wakes nobody", [[ab, "not a message file"]], [], []],
    [
      "its machine file and STATUS wake nobody",
      [
        ["coordination/COMPUTER_a.md", "x"],
        ["STATUS.md", "y"],
      ],
      [],
      [],
    ],
    ["a new delegated order for b", [[mine, orders({ id: "t1", to: "b", run: "x" })]], [], ["b"]],
    ["a delegated order for a list", [[mine, orders({ id: "t1", to: ["c", "b", "a"], run: "x" })]], [], ["b", "c"]],
    [
      "an unchanged delegated order wakes nobody; a changed one does",
      [[mine, orders({ id: "t1", to: "b", run: "x" }, { id: "t2", to: "c", run: "y" })]],
      [[mine, orders({ id: "t1", to: "b", run: "x" }, { id: "t2", to: "c", run: "z" })]],
      ["c"],
    ],
    ["ANY and ALL orders wake nobody", [[mine, orders({ id: "t1", to: "ANY", run: "x" }, { id: "t2", to: "ALL", run: "x" })]], [], []],
    ["a bad name wakes nobody", [[mine, orders({ id: "t1", to: "../x", run: "x" }, { id: "t2", to: ["B C"], run: "x" })]], [], []],
    ["another machine's delegated file is not this publish's", [["coordination/orders/c.json", orders({ id: "t1", to: "b", run: "x" })]], [], []],
    ["a delegated file that does not parse wakes nobody", [[mine, "{"]], [], []],
  ])("%s", (_what, changes, before, wakes) => {
    expect(wakesOf("a", new Map(changes), new Map(before))).toEqual(wakes);
  });

  it("names each machine's own ref", () => {
    expect(wakeRefOf("soda-yeti")).toBe("refs/coord-wake/soda-yeti");
  });
});

describe("what a look saw", () => {
  const tracked = "p1+c1";
  it.each<[string, { tip?: string; wake?: string }, string | undefined, string | undefined, ReturnType<typeof lookOf>]>([
    ["the hub where it was", { tip: "p1+c1", wake: "w1" }, tracked, "w0", { moved: false }],
    ["no answer", {}, tracked, undefined, { moved: false }],
    ["the machines' branch moved, its wake too", { tip: "p1+c2", wake: "w2" }, tracked, "w1", { moved: true, addressed: true }],
    ["the machines' branch moved, its wake not", { tip: "p1+c2", wake: "w1" }, tracked, "w1", { moved: true, othersOnly: true }],
    ["a person's push, its wake not", { tip: "p2+c1", wake: "w1" }, tracked, "w1", { moved: true }],
    ["never woken on this hub: as before wakes", { tip: "p1+c2" }, tracked, undefined, { moved: true }],
    ["its first look: a wake it never saw counts", { tip: "p1+c2", wake: "w1" }, tracked, undefined, { moved: true, addressed: true }],
    ["nothing fetched yet", { tip: "p1+c1", wake: "w1" }, undefined, "w1", { moved: true }],
  ])("%s", (_what, seen, t, lastWake, look) => {
    expect(lookOf(seen, t, lastWake)).toEqual(look);
  });
});

describe("how soon a move is synced", () => {
  it.each<[number, { addressed?: boolean; othersOnly?: boolean }, number]>([
    [30, { addressed: true }, 0],
    [3, { addressed: true }, 0],
    [30, {}, moveSpreadOf(30)],
    [30, { othersOnly: true }, 7250],
    [3, { othersOnly: true }, 500],
    [1, { othersOnly: true }, 0],
    [1000, { othersOnly: true }, MAX_OTHERS_SPREAD_MS],
  ])("%d machines, %o: %d ms at most", (machines, look, ms) => {
    expect(syncSpreadOf(machines, look)).toBe(ms);
  });
});
