// Two roles, two branches: which branch each path lives on (src/core/trust/ownership.ts roleOf), the pair of tips a
// machine works on (src/git/hub.ts), and the upgrade of a hub of the old layout (src/core/setup/upgrade.ts).
import { describe, expect, it } from "vitest";
import { parseComputer, renderComputer } from "../src/core/fleet/computer.js";
import { roleOf } from "../src/core/trust/ownership.js";
import { isOldLayout, isUpgradeLeftover, statusPointer, TOMBSTONE_HOST, upgradeChanges } from "../src/core/setup/upgrade.js";
import { computerFile } from "./fixtures.js";
import { commitOf, filesByRole, joinTip, roleOfChanges, splitTip } from "../src/git/hub.js";

const P = "a".repeat(40);
const M = "b".repeat(40);

describe("roleOf: the branch of each path", () => {
  it.each([
    ["ORDERS.json", "people"],
    ["README.md", "people"],
    ["coordination/orders.schema.json", "people"],
    ["coordination/README.md", "people"],
    ["notes/plan.md", "people"],
    ["coordination/notes.md", "people"], // odd: nobody's, so never a machine's to publish
    ["STATUS.md", "machines"],
    ["STATUS.json", "machines"],
    ["coordination/COMPUTER_izzit7.md", "machines"],
    ["coordination/messages/izzit7_TO_soda-yeti.md", "machines"],
    ["coordination/messages/izzit7_TO_ALL.md", "machines"],
    ["coordination/orders/izzit7.json", "machines"],
  ])("%s is the %s'", (path, role) => {
    expect(roleOf(path)).toBe(role);
  });
});

describe("the pair of tips", () => {
  it.each([
    [P, M, `${P}+${M}`],
    [P, undefined, `${P}+`],
  ])("joinTip(%s, %s) and back", (people, machines, joined) => {
    expect(joinTip(people, machines)).toBe(joined);
    expect(splitTip(joined)).toEqual(machines ? { people, machines } : { people });
  });
  it.each([
    [`${P}+${M}`, "people", P],
    [`${P}+${M}`, "machines", M],
    [`${P}+`, "machines", P], // no machines' branch yet: the old layout, everything on the people's
    [P, "machines", P], // a plain commit is itself
  ] as const)("commitOf(%s, %s)", (tip, role, want) => {
    expect(commitOf(tip, role)).toBe(want);
  });
  it("a change set is one role's; both at once is a bug", () => {
    expect(roleOfChanges(new Map([["ORDERS.json", "{}"]]))).toBe("people");
    expect(
      roleOfChanges(
        new Map([
          ["STATUS.md", "x"],
          ["coordination/COMPUTER_a.md", null],
        ]),
      ),
    ).toBe("machines");
    expect(() =>
      roleOfChanges(
        new Map([
          ["ORDERS.json", "{}"],
          ["STATUS.md", "x"],
        ]),
      ),
    ).toThrow();
  });
  it("each file is read from its role's branch; with no machines' branch, everything from the people's", () => {
    const people = new Map([
      ["ORDERS.json", "orders"],
      ["coordination/COMPUTER_a.md", "tombstone"],
      ["STATUS.md", "pointer"],
    ]);
    const machines = new Map([
      ["coordination/COMPUTER_a.md", "live"],
      ["STATUS.md", "status"],
      ["ORDERS.json", "stale copy"],
    ]);
    expect(Object.fromEntries(filesByRole(people, machines))).toEqual({ "ORDERS.json": "orders", "coordination/COMPUTER_a.md": "live", "STATUS.md": "status" });
    expect(filesByRole(people, undefined)).toEqual(people);
  });
});

describe("upgrading a hub of the old layout", () => {
  const computer = (name: string, epoch?: number) => renderComputer(computerFile(name, epoch ? { identity: { epoch, host: "elsewhere", at: "2026-01-01T00:00:00.000Z" } } : {}));
  const old = new Map([
    ["ORDERS.json", "{}"],
    ["README.md", "# hub"],
    ["coordination/orders.schema.json", "{}"],
    ["coordination/COMPUTER_a.md", computer("a")],
    ["coordination/COMPUTER_b.md", computer("b", 2)],
    ["coordination/messages/a_TO_b.md", "msg"],
    ["coordination/orders/a.json", "{}"],
    ["STATUS.md", "# status"],
    ["STATUS.json", "{}"],
  ]);
  it.each([
    ["a hub whose machines' files are on the people's branch", old, true],
    ["only STATUS.md there", new Map([["STATUS.md", "x"]]), true],
    [
      "only people's files",
      new Map([
        ["ORDERS.json", "{}"],
        ["notes.md", ""],
      ]),
      false,
    ],
  ])("isOldLayout: %s", (_what, files, want) => {
    expect(isOldLayout(files)).toBe(want);
  });
  it("the machines' branch keeps exactly the machines' files; the people's keeps its own, tombstones and a pointer", () => {
    const now = new Date("2026-11-25T00:00:00.000Z");
    const { machines, people } = upgradeChanges(old, "coord", now);
    // On the machines' branch (a child of the people's tip): the people's files removed, the machines' untouched.
    expect([...machines]).toEqual([
      ["ORDERS.json", null],
      ["README.md", null],
      ["coordination/orders.schema.json", null],
    ]);
    // On the people's branch: tombstones one identity generation on, with what to do; the rest gone; a pointer.
    const tomb = (name: string) => parseComputer(people.get(`coordination/COMPUTER_${name}.md`)!, name).identity;
    expect(tomb("a")).toEqual({ epoch: 1, host: TOMBSTONE_HOST, at: now.toISOString() });
    expect(tomb("b")?.epoch).toBe(3);
    expect(people.get("coordination/messages/a_TO_b.md")).toBeNull();
    expect(people.get("coordination/orders/a.json")).toBeNull();
    expect(people.get("STATUS.json")).toBeNull();
    expect(people.get("STATUS.md")).toBe(statusPointer("coord"));
    expect(people.has("ORDERS.json")).toBe(false);
    expect(statusPointer("coord")).toMatch(/\(\.\.\/\.\.\/blob\/coord\/STATUS\.md\)/);
  });
  it("what an upgrade left on main is not the old layout, and is not read when coord is gone", () => {
    const { people } = upgradeChanges(old, "coord", new Date(0));
    const main = new Map([...old].filter(([path]) => people.get(path) !== null));
    for (const [path, text] of people) if (text !== null) main.set(path, text);
    expect(isOldLayout(main)).toBe(false);
    expect([...filesByRole(main, undefined).keys()].sort()).toEqual(["ORDERS.json", "README.md", "coordination/orders.schema.json"]);
    expect(isUpgradeLeftover("coordination/COMPUTER_a.md", people.get("coordination/COMPUTER_a.md")!)).toBe(true);
    expect(isUpgradeLeftover("coordination/COMPUTER_a.md", computer("a"))).toBe(false);
    expect(isUpgradeLeftover("STATUS.md", "# status")).toBe(false);
    // A machine file an older coord wrote there again makes it the old layout.
    expect(isOldLayout(new Map([...main, ["coordination/COMPUTER_c.md", computer("c")]]))).toBe(true);
  });

  it("an unreadable machine's file is removed from the people's branch, not copied", () => {
    const { people } = upgradeChanges(new Map([["coordination/COMPUTER_x.md", "not a machine file"]]), "coord", new Date(0));
    expect(people.get("coordination/COMPUTER_x.md")).toBeNull();
  });
});
