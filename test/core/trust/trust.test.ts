// The signed-orders rule (src/core/trust/trust.ts), table-driven: which version of
// each orders file a machine acts on, given the newest change's signature and
// what it accepted before.
import { describe, expect, it } from "vitest";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { type Accepted, type Change, describeRefusal, type SignatureStatus, trustedFiles } from "../../../src/core/trust/trust.js";
import { computerFile } from "../../fixtures.js";

const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const C3 = "3".repeat(40);
const change = (commit: string, status: SignatureStatus): Change => ({ commit, status, signer: status === "G" ? "alice@example.com" : "", author: "A <a@x>" });
const NONE = '{ "version": 1, "orders": [] }\n';

describe("trustedFiles", () => {
  const tip = new Map([
    ["ORDERS.json", "new"],
    ["coordination/orders/m.json", "delegated"],
    ["STATUS.md", "s"],
  ]);
  const cases: { name: string; path: string; change?: Change; before?: Accepted; acts: string | undefined; accepted?: Accepted; refused?: string }[] = [
    { name: "a good change is acted on and accepted", path: "ORDERS.json", change: change(C2, "G"), acts: "new", accepted: { commit: C2, text: "new" } },
    {
      name: "an unsigned change keeps the version accepted before",
      path: "ORDERS.json",
      change: change(C2, "N"),
      before: { commit: C1, text: "old" },
      acts: "old",
      accepted: { commit: C1, text: "old" },
      refused: "not signed",
    },
    {
      name: "an unknown signer, nothing accepted yet: no orders",
      path: "ORDERS.json",
      change: change(C2, "U"),
      acts: NONE,
      refused: "signed by a key that is not an allowed signer",
    },
    {
      name: "a revoked key",
      path: "ORDERS.json",
      change: change(C2, "B"),
      before: { commit: C1, text: "old" },
      acts: "old",
      refused: "its signature is bad or its key is revoked",
    },
    {
      name: "the commit accepted before stays accepted when its key is revoked later",
      path: "ORDERS.json",
      change: change(C1, "B"),
      before: { commit: C1, text: "new" },
      acts: "new",
    },
    {
      name: "a good change older than the version accepted (not in its history): a rollback",
      path: "ORDERS.json",
      change: { ...change(C2, "G"), notAfter: C1 },
      before: { commit: C1, text: "old" },
      acts: "old",
      refused: `signed, but the version verified last (commit ${C1.slice(0, 12)}) is not in its history: a rollback or a rewritten history (if it is meant, delete .git/coord/trust.json on this machine)`,
    },
    {
      name: "a good change a merge kept over a signed one on another line: refused, naming it",
      path: "ORDERS.json",
      change: { ...change(C2, "G"), supersededBy: C3 },
      acts: NONE,
      refused: `signed, but a signed change of it on a line a merge left (commit ${C3.slice(0, 12)}) has it otherwise: a merge kept an older or another version (sign a new change of it to say which version stands)`,
    },
    {
      name: "a good change too many changes a merge left hide: refused",
      path: "ORDERS.json",
      change: { ...change(C2, "G"), supersededBy: "" },
      before: { commit: C1, text: "old" },
      acts: "old",
      refused:
        "signed, but too many changes of it lie on lines a merge left to find the signed ones: a merge kept an older or another version (sign a new change of it to say which version stands)",
    },
    { name: "a refused delegated orders file counts as absent", path: "coordination/orders/m.json", change: change(C2, "N"), acts: undefined, refused: "not signed" },
    { name: "a file no commit ever changed, nothing accepted: absent", path: "coordination/orders/x.json", acts: undefined },
  ];
  it.each(cases)("$name", ({ path, change: ch, before, acts, accepted, refused }) => {
    const r = trustedFiles(tip, [path], new Map([[path, ch]]), new Map(before ? [[path, before]] : []));
    expect(r.files.get(path)).toBe(acts);
    expect(r.files.get("STATUS.md")).toBe("s"); // only orders files are touched
    if (accepted) expect(r.accepted.get(path)).toEqual(accepted);
    if (refused) expect(r.refusals).toEqual([expect.objectContaining({ path, commit: C2, reason: refused, ...(before ? { kept: before.commit } : {}) })]);
    else expect(r.refusals).toEqual([]);
  });

  it("a refusal in one line for people", () => {
    expect(describeRefusal({ path: "ORDERS.json", commit: C2, author: "M <m@x>", reason: "not signed", kept: C1 })).toBe(
      `ORDERS.json commit ${C2.slice(0, 12)} by M <m@x>: not signed; acting on the version of commit ${C1.slice(0, 12)}`,
    );
  });

  it("a refusal names its commit's author as a person may be shown it: a terminal escape or a bidi control in it is written escaped", () => {
    const r = describeRefusal({ path: "coordination/messages/bob_TO_vic.md", commit: C2, author: "bob\u001b]0;T\u0007\u202e <b\u200b@x>", reason: "not signed" });
    expect(r).toBe(
      `coordination/messages/bob_TO_vic.md commit ${C2.slice(0, 12)} by bob\\u001b]0;T\\u0007\\u202e <b\\u200b@x>: not signed; no verified version: it counts as absent`,
    );
  });

  it("a machine's file counts only when signed by that machine: another allowed signer is refused", () => {
    const path = "coordination/COMPUTER_b.md";
    const files = new Map([[path, "forged"]]);
    const owner = () => "b";
    const byA: Change = { commit: C2, status: "G", signer: "a", author: "A <a@x>" };
    const r = trustedFiles(files, [path], new Map([[path, byA]]), new Map([[path, { commit: C1, text: "real" }]]), owner);
    expect(r.files.get(path)).toBe("real");
    expect(r.refusals).toEqual([expect.objectContaining({ reason: "signed by a, not by b, whose file it is", kept: C1 })]);
    const byB: Change = { ...byA, signer: "b" };
    expect(trustedFiles(files, [path], new Map([[path, byB]]), new Map(), owner).files.get(path)).toBe("forged");
  });
});

describe("refusals in a machine's file", () => {
  it("are bounded as readers check them: a pusher's 1,000-character author name or 60 refusals never make the file unreadable", () => {
    const refused = Array.from({ length: 60 }, (_, i) => ({ path: "ORDERS.json", commit: C2, author: `${"M".repeat(1000)} <m@x>`, reason: `not signed ${i}` }));
    const text = renderComputer(computerFile("b", { trust: { refused } }));
    const back = parseComputer(text, "b");
    expect(back.trust?.refused).toHaveLength(50);
    expect(back.trust?.refused[0]?.author.length).toBe(300);
  });
});
