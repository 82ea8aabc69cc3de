import { describe, expect, it } from "vitest";
import { calm, type FileWaking, fileWakes, lookOf, wakeRefOf, wakesOf, type WakesSeen } from "../../../src/core/hub/wakes.js";

/** A message file as parsed: its channel and its next sequence number (the messages do not matter here). */
const file = (from: string, to: string, next: number) => ({ from, to, next });
const orders = (...entries: object[]) => JSON.stringify({ version: 1, orders: entries });

const A = { name: "a", delegated: "coordination/orders/a.json" };
const none = { own: [], hub: [] };

describe("which machines a publish wakes", () => {
  it.each<[string, ReturnType<typeof file>[], ReturnType<typeof file>[], string[]]>([
    ["a first message to b", [file("a", "b", 2)], [], ["b"]],
    ["a second message to b", [file("a", "b", 3)], [file("a", "b", 2)], ["b"]],
    ["b's file pruned of an old message: nothing new", [file("a", "b", 3)], [file("a", "b", 3)], []],
    ["messages to b and c, each woken once", [file("a", "b", 2), file("a", "c", 5)], [file("a", "c", 4)], ["b", "c"]],
    ["a broadcast wakes the fleet", [file("a", "ALL", 2)], [], ["ALL"]],
    ["another machine's channel to b on the hub is not its own", [file("a", "b", 2)], [file("c", "b", 9)], ["b"]],
    ["nothing sent", [], [file("a", "b", 2)], []],
  ])("messages: %s", (_what, own, hub, wakes) => {
    expect(wakesOf(A, { own, hub }, new Map(), new Map())).toEqual(wakes);
  });

  const mine = "coordination/orders/a.json";
  it.each<[string, [string, string | null][], [string, string][], string[]]>([
    ["a new delegated order for b", [[mine, orders({ id: "t1", to: "b", run: "x" })]], [], ["b"]],
    ["a delegated order for a list", [[mine, orders({ id: "t1", to: ["c", "b", "a"], run: "x" })]], [], ["b", "c"]],
    [
      "an unchanged delegated order wakes nobody; a changed one does",
      [[mine, orders({ id: "t1", to: "b", run: "x" }, { id: "t2", to: "c", run: "y" })]],
      [[mine, orders({ id: "t1", to: "b", run: "x" }, { id: "t2", to: "c", run: "z" })]],
      ["c"],
    ],
    ["ANY and ALL orders wake the fleet, once", [[mine, orders({ id: "t1", to: "ANY", run: "x" }, { id: "t2", to: "ALL", run: "x" })]], [], ["ALL"]],
    ["a bad name wakes nobody", [[mine, orders({ id: "t1", to: "../x", run: "x" }, { id: "t2", to: ["B C"], run: "x" })]], [], []],
    ["another machine's delegated file is not this publish's", [["coordination/orders/c.json", orders({ id: "t1", to: "b", run: "x" })]], [], []],
    ["a delegated file that does not parse wakes nobody", [[mine, "{"]], [], []],
    ["its delegated file deleted wakes nobody", [[mine, null]], [[mine, orders({ id: "t1", to: "b", run: "x" })]], []],
    [
      "its machine file and STATUS wake nobody",
      [
        ["coordination/COMPUTER_a.md", "x"],
        ["STATUS.md", "y"],
      ],
      [["coordination/COMPUTER_a.md", "w"]],
      [],
    ],
    ["its machine file new on the hub (it registers): the fleet, whose sends check names against their last sync", [["coordination/COMPUTER_a.md", "x"]], [], ["ALL"]],
    ["another machine's file new on the hub is not this publish's", [["coordination/COMPUTER_b.md", "x"]], [], []],
    ["its machine file deleted wakes nobody", [["coordination/COMPUTER_a.md", null]], [], []],
  ])("delegated orders: %s", (_what, changes, before, wakes) => {
    expect(wakesOf(A, none, new Map(changes), new Map(before))).toEqual(wakes);
  });

  it("adds the machines of orders that wait on its results, each once, never itself", () => {
    expect(wakesOf(A, { own: [file("a", "b", 2)], hub: [] }, new Map(), new Map(), ["c", "b", "a"])).toEqual(["b", "c"]);
  });

  it("names each machine's own ref", () => {
    expect(wakeRefOf("soda-yeti")).toBe("refs/coord-wake/soda-yeti");
  });
});

describe("what a look saw", () => {
  const tracked = "p1+c1";
  it.each<[string, { tip?: string } & WakesSeen, string | undefined, WakesSeen, ReturnType<typeof lookOf>]>([
    ["the hub where it was", { tip: "p1+c1", wake: "w1" }, tracked, { wake: "w0" }, { moved: false }],
    ["no answer", {}, tracked, {}, { moved: false }],
    ["the machines' branch moved, its wake too", { tip: "p1+c2", wake: "w2" }, tracked, { wake: "w1" }, { moved: true, addressed: true }],
    ["the machines' branch moved, its wake not", { tip: "p1+c2", wake: "w1" }, tracked, { wake: "w1" }, { moved: true, othersOnly: true }],
    ["the machines' branch moved with the fleet's wake", { tip: "p1+c2", wake: "w1", everyone: "e2" }, tracked, { wake: "w1", everyone: "e1" }, { moved: true }],
    ["the fleet's wake as it was", { tip: "p1+c2", wake: "w1", everyone: "e1" }, tracked, { wake: "w1", everyone: "e1" }, { moved: true, othersOnly: true }],
    ["a person's push, its wake not", { tip: "p2+c1", wake: "w1" }, tracked, { wake: "w1" }, { moved: true }],
    ["never woken on this hub: as before wakes", { tip: "p1+c2" }, tracked, {}, { moved: true }],
    ["its first look: a wake it never saw counts", { tip: "p1+c2", wake: "w1" }, tracked, {}, { moved: true, addressed: true }],
    ["nothing fetched yet", { tip: "p1+c1", wake: "w1" }, undefined, { wake: "w1" }, { moved: true }],
  ])("%s", (_what, seen, t, last, look) => {
    expect(lookOf(seen, t, last)).toEqual(look);
  });
});

describe("whom a change of its file wakes", () => {
  const orders = [
    { id: "t0", to: "a" },
    { id: "x", to: "b", after: ["t1"] },
    { id: "y", to: ["c", "d"], after: ["t1", "t2"] },
    { id: "z", to: "ANY", after: ["t3"] },
    { id: "t4", to: "ANY" },
    { id: "e", to: "e" },
  ];
  const tasks = (t: Record<string, string>) => ({ tasks: Object.fromEntries(Object.entries(t).map(([id, state]) => [id, { state }])) });
  it.each<[string, FileWaking | undefined, FileWaking, string[]]>([
    ["t1 completed now: the machines of the orders after it", tasks({ t1: "in_progress" }), tasks({ t1: "completed" }), ["b", "c", "d"]],
    ["t1 completed before: nothing new", tasks({ t1: "completed" }), tasks({ t1: "completed" }), []],
    ["t1 failed: nobody runs after it", tasks({ t1: "in_progress" }), tasks({ t1: "failed" }), []],
    ["t3 completed: an ANY order waits, the fleet", undefined, tasks({ t3: "completed" }), ["ALL"]],
    ["t9 completed: nobody waits on it", tasks({}), tasks({ t9: "completed" }), []],
    ["an ANY order's claim given up (failed): the fleet may take it", tasks({ t4: "in_progress" }), tasks({ t4: "failed" }), ["ALL"]],
    ["an ANY order's claim gone from its file: the fleet", tasks({ t4: "assigned" }), tasks({}), ["ALL"]],
    ["an ended ANY order gone from its file: nobody", tasks({ t4: "completed" }), tasks({}), []],
    ["an ANY order claimed, or completed: nobody", tasks({ t4: "assigned" }), tasks({ t4: "in_progress" }), []],
    ["an ANY order completed: nobody", tasks({ t4: "in_progress" }), tasks({ t4: "completed" }), []],
    ["a named order failed: nobody", tasks({ t0: "in_progress" }), tasks({ t0: "failed" }), []],
    ["its reservations changed: the fleet", { ...tasks({}), reservations: [{ id: 1 }] }, { ...tasks({}), reservations: [{ id: 1 }, { id: 2 }] }, ["ALL"]],
    ["its reservations as they were: nobody", { ...tasks({}), reservations: [{ id: 1 }] }, { ...tasks({}), reservations: [{ id: 1 }] }, []],
  ])("%s", (_what, before, now, wakes) => {
    expect(fileWakes(before, now, orders).sort()).toEqual(wakes);
  });
});

describe("a quiet machine is calm: it may leave others' moves alone", () => {
  const orders = [
    { id: "a1", to: "ANY" },
    { id: "n1", to: "b" },
    { id: "a2", to: "ANY", cancelled: true },
  ];
  it.each<[string, number, typeof orders, Record<string, { state: string }>[], boolean]>([
    ["no orders, nothing waits", 0, [], [], true],
    ["something waits in its stamp", 1, [], [], false],
    ["an ANY order nobody completed: open", 0, orders, [{ a1: { state: "in_progress" } }], false],
    ["every ANY order completed somewhere (a cancelled one counts for nothing)", 0, orders, [{}, { a1: { state: "completed" } }], true],
    ["a named order alone: nothing for it to take", 0, [{ id: "n1", to: "b" }], [], true],
  ])("%s", (_what, waiting, os, reports, expected) => {
    expect(calm(waiting, os, reports)).toBe(expected);
  });
});
