// Alerts going out at most once (core/status/alerts.ts): which are new, the cap per
// sync with a summary for the rest, and when a notified id is forgotten.
import { describe, expect, it } from "vitest";
import { NOTIFIED_GRACE_S, NOTIFY_CAP, type Notified, newAlerts, planNotify, pruneNotified } from "../../../src/core/status/alerts.js";
import type { Alert } from "../../../src/core/fleet/status-types.js";

const T0 = Date.parse("2026-11-23T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString();
const failed = (id: string): Alert => ({ id: `failed/${id}/1/m/1`, kind: "failed", order: id, machine: "m", text: `${id} failed on m: exit 1` });
const offline = (m: string): Alert => ({ id: `offline/${m}/2026-11-23T09:00:00.000Z`, kind: "offline", machine: m, text: `${m} is offline` });
const urgent = (n: number): Alert => ({ id: `a/b/${n}`, kind: "urgent", from: "a", to: "b", recipients: ["b"], text: "the disk is full" });
const record = (...ids: string[]): Notified => Object.fromEntries(ids.map((id) => [id, { at: iso(-60) }]));

describe("newAlerts", () => {
  const cases: { name: string; alerts: Alert[]; notified: Notified; want: string[] }[] = [
    { name: "nothing notified: all, in their order", alerts: [offline("x"), failed("o1"), urgent(1)], notified: {}, want: [offline("x").id, failed("o1").id, urgent(1).id] },
    { name: "those notified are left out", alerts: [offline("x"), failed("o1")], notified: record(offline("x").id), want: [failed("o1").id] },
    { name: "an id notified and gone that comes back is not new", alerts: [failed("o1")], notified: { [failed("o1").id]: { at: iso(-60), gone: iso(-30) } }, want: [] },
    { name: "the same id twice counts once", alerts: [urgent(1), urgent(1)], notified: {}, want: [urgent(1).id] },
    { name: "an id like an object's property is an id like any other", alerts: [{ ...urgent(1), id: "constructor" }], notified: {}, want: ["constructor"] },
  ];
  for (const c of cases) it(c.name, () => expect(newAlerts(c.alerts, c.notified).map((a) => a.id)).toEqual(c.want));
});

describe("pruneNotified", () => {
  const cases: { name: string; before: Notified; present: Alert[]; want: Notified }[] = [
    { name: "a present alert keeps its entry", before: record(failed("o1").id), present: [failed("o1")], want: record(failed("o1").id) },
    { name: "an alert gone is marked gone now", before: record(failed("o1").id), present: [], want: { [failed("o1").id]: { at: iso(-60), gone: iso(0) } } },
    { name: "gone and back: the mark goes", before: { [failed("o1").id]: { at: iso(-60), gone: iso(-10) } }, present: [failed("o1")], want: record(failed("o1").id) },
    {
      name: "gone within the grace: kept as it was",
      before: { k: { at: iso(-90_000), gone: iso(-NOTIFIED_GRACE_S) } },
      present: [],
      want: { k: { at: iso(-90_000), gone: iso(-NOTIFIED_GRACE_S) } },
    },
    { name: "gone for longer than the grace: dropped", before: { k: { at: iso(-90_000), gone: iso(-NOTIFIED_GRACE_S - 1) } }, present: [], want: {} },
    { name: "a gone time that is no time: marked gone now", before: { k: { at: iso(-60), gone: "yesterday" } }, present: [], want: { k: { at: iso(-60), gone: iso(0) } } },
  ];
  for (const c of cases) it(c.name, () => expect({ ...pruneNotified(c.before, c.present, at(0)) }).toEqual(c.want));
});

describe("planNotify", () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => failed(`o${i + 1}`));
  const cases: { name: string; alerts: Alert[]; notified: Notified; send: string[]; summary?: { text: string; alerts: number } }[] = [
    { name: "no alerts: nothing to send", alerts: [], notified: {}, send: [] },
    { name: "the first run with alerts already there: they are new", alerts: [offline("x"), urgent(3)], notified: {}, send: [offline("x").id, urgent(3).id] },
    { name: "only the new ones", alerts: [offline("x"), urgent(3)], notified: record(offline("x").id), send: [urgent(3).id] },
    { name: "as many as the cap: one call each", alerts: many(NOTIFY_CAP), notified: {}, send: many(NOTIFY_CAP).map((a) => a.id) },
    {
      name: "more than the cap: the first ones, then one summary of the rest with their kinds",
      alerts: [offline("x"), ...many(6)],
      notified: {},
      send: [offline("x").id, ...many(3).map((a) => a.id), `summary/${iso(0)}`],
      summary: { text: "3 more alerts (3 failed): see STATUS.md", alerts: 3 },
    },
    {
      name: "the summary counts each kind",
      alerts: [...many(4), offline("x"), offline("y"), urgent(1)],
      notified: {},
      send: [...many(4).map((a) => a.id), `summary/${iso(0)}`],
      summary: { text: "3 more alerts (2 offline, 1 urgent): see STATUS.md", alerts: 3 },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const plan = planNotify(c.alerts, c.notified, at(0));
      expect(plan.send.map((n) => n.id)).toEqual(c.send);
      // Every alert present is in the record, sent, summarised or sent before: none goes out twice.
      for (const a of c.alerts) expect(Object.hasOwn(plan.notified, a.id)).toBe(true);
      const summary = plan.send.find((n) => n.kind === "summary");
      if (c.summary) expect(summary).toMatchObject({ text: c.summary.text, alerts: expect.any(Array) });
      if (c.summary) expect(summary && "alerts" in summary && summary.alerts).toHaveLength(c.summary.alerts);
      else expect(summary).toBeUndefined();
    });

  it("at most once: a second plan on the record of the first sends nothing, and a later new alert alone", () => {
    const alerts = [offline("x"), ...Array.from({ length: 9 }, (_, i) => failed(`o${i}`))];
    const first = planNotify(alerts, {}, at(0));
    expect(first.send).toHaveLength(NOTIFY_CAP);
    const second = planNotify(alerts, first.notified, at(60));
    expect(second.send).toEqual([]);
    const third = planNotify([...alerts, urgent(7)], second.notified, at(120));
    expect(third.send.map((n) => n.id)).toEqual([urgent(7).id]);
  });

  it("a resolved alert is forgotten after the grace, and comes back as new only then", () => {
    const first = planNotify([failed("o1")], {}, at(0));
    const gone = planNotify([], first.notified, at(10));
    expect(gone.notified[failed("o1").id]!.gone).toBe(iso(10));
    expect(planNotify([failed("o1")], gone.notified, at(20)).send).toEqual([]);
    const later = planNotify([], gone.notified, at(10 + NOTIFIED_GRACE_S + 1));
    expect(later.notified).toEqual({});
  });
});
