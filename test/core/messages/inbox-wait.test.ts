// Which messages end a wait, and what the waiter does next (core/messages/inbox-wait.ts).
import { describe, expect, it } from "vitest";
import { arrivedSince, maxWaitSteps, seenAtStart, waitStep, type WaitFilter } from "../../../src/core/messages/inbox-wait.js";

const msg = (id: string, replyTo?: string) => ({ id, from: id.split("/")[0]!, ...(replyTo ? { replyTo } : {}) });
const inbox = [msg("a/b/1"), msg("c/b/1"), msg("a/b/2", "b/a/7"), msg("c/ALL/3", "b/a/7"), msg("a/b/3")];

describe("arrivedSince", () => {
  const cases: [string, string[], WaitFilter, string[]][] = [
    ["nothing seen, no filter: all, oldest first", [], {}, ["a/b/1", "c/b/1", "a/b/2", "c/ALL/3", "a/b/3"]],
    ["what was there when the wait began never counts", ["a/b/1", "c/b/1", "a/b/2"], {}, ["c/ALL/3", "a/b/3"]],
    ["from one machine", ["a/b/1"], { from: "a" }, ["a/b/2", "a/b/3"]],
    ["replies to one id, from anyone (a broadcast too)", [], { replyTo: "b/a/7" }, ["a/b/2", "c/ALL/3"]],
    ["both filters", [], { from: "c", replyTo: "b/a/7" }, ["c/ALL/3"]],
    ["a reply that was already there does not count", ["a/b/2", "c/ALL/3"], { replyTo: "b/a/7" }, []],
    ["no machine of that name", [], { from: "zz" }, []],
    ["everything seen", inbox.map((x) => x.id), {}, []],
  ];
  for (const [what, seen, filter, want] of cases)
    it(what, () => {
      expect(arrivedSince(inbox, new Set(seen), filter).map((x) => x.id)).toEqual(want);
    });
});

describe("seenAtStart: a reply that came before the wait and was not read ends a wait for replies at once", () => {
  const cases: [string, string[], WaitFilter, string[]][] = [
    ["no filter: everything there is seen (a wait is for new messages)", [], {}, ["a/b/1", "c/b/1", "a/b/2", "c/ALL/3", "a/b/3"]],
    ["from one machine: the same", [], { from: "a" }, ["a/b/1", "c/b/1", "a/b/2", "c/ALL/3", "a/b/3"]],
    ["replies to one id: those not acknowledged are not seen", [], { replyTo: "b/a/7" }, ["a/b/1", "c/b/1", "a/b/3"]],
    ["replies to one id: one acknowledged is seen", ["a/b/2"], { replyTo: "b/a/7" }, ["a/b/1", "c/b/1", "a/b/2", "a/b/3"]],
    ["replies to another id: all seen", [], { replyTo: "b/a/9" }, ["a/b/1", "c/b/1", "a/b/2", "c/ALL/3", "a/b/3"]],
  ];
  for (const [what, acked, filter, want] of cases)
    it(what, () => {
      const seen = seenAtStart(inbox, (x) => acked.includes(x.id), filter);
      expect([...seen]).toEqual(want);
      // And so the wait returns, at its first read, the unread replies already there.
      if (filter.replyTo === "b/a/7" && !acked.length) expect(arrivedSince(inbox, seen, filter).map((x) => x.id)).toEqual(["a/b/2", "c/ALL/3"]);
    });
});

describe("waitStep", () => {
  const cases: [string, number, number, number | undefined, number, ReturnType<typeof waitStep>][] = [
    ["the deadline came", 10_000, 10_000, undefined, 250, { kind: "deadline" }],
    ["past it, even with a look due", 10_500, 10_000, 0, 250, { kind: "deadline" }],
    ["a look that is due comes first", 1000, 10_000, 1000, 250, { kind: "look" }],
    ["a daemon looks: only reads, every 250 ms", 1000, 10_000, undefined, 250, { kind: "sleep", ms: 250 }],
    ["a look before the next read: sleep until it", 1000, 10_000, 1100, 250, { kind: "sleep", ms: 100 }],
    ["a look after the next read: read first", 1000, 10_000, 5000, 250, { kind: "sleep", ms: 250 }],
    ["the deadline before the next read: sleep until it", 9900, 10_000, undefined, 250, { kind: "sleep", ms: 100 }],
    ["never a busy loop: 10 ms at least", 9999, 10_000, undefined, 250, { kind: "sleep", ms: 10 }],
    ["a read interval of 0 is 10 ms", 0, 10_000, undefined, 0, { kind: "sleep", ms: 10 }],
    ["a deadline that is not a number ends it", 0, Number.NaN, undefined, 250, { kind: "deadline" }],
  ];
  for (const [what, now, deadline, lookAt, every, want] of cases)
    it(what, () => {
      expect(waitStep(now, deadline, lookAt, every)).toEqual(want);
    });

  it("a loop driven by it ends by the deadline, looks as often as asked and within its step bound", () => {
    let now = 0;
    let lookAt: number | undefined = 0;
    let looks = 0;
    let steps = 0;
    for (; steps < maxWaitSteps(20_000); steps++) {
      const s = waitStep(now, 20_000, lookAt);
      if (s.kind === "deadline") break;
      if (s.kind === "look") {
        looks++;
        lookAt = now + 2500;
      } else now += s.ms;
    }
    expect(now).toBe(20_000);
    expect(looks).toBe(8); // at 0, 2.5 s, … 17.5 s
    expect(steps).toBeLessThan(maxWaitSteps(20_000));
  });
});
