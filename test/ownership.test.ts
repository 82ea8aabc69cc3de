// File ownership (src/core/trust/ownership.ts): one rule, used by the reader and by
// the commit step, which refuses to commit a path the machine does not own.
import { describe, expect, it } from "vitest";
import { notOwned, ownerOf, owns } from "../src/core/trust/ownership.js";
import { classifyPath } from "../src/core/repo/repo.js";
import { CoordError } from "../src/errors.js";
import { commitOwned } from "../src/sync/cas.js";

describe("owns(machine, path)", () => {
  it.each<[string, boolean]>([
    ["coordination/COMPUTER_alpha.md", true],
    ["coordination/messages/alpha_TO_beta.md", true],
    ["coordination/messages/alpha_TO_ALL.md", true],
    ["coordination/orders/alpha.json", true],
    ["STATUS.json", true],
    ["STATUS.md", true],
    ["ORDERS.json", false], // people's
    ["coordination/COMPUTER_beta.md", false],
    ["coordination/messages/beta_TO_alpha.md", false],
    ["coordination/orders/beta.json", false],
    ["coordination/orders.schema.json", false],
    ["coordination/README.md", false],
    ["README.md", false],
    ["src/main.ts", false],
    ["coordination/COMPUTER_alpha.md\tx", false], // a lookalike with a tab
    ["coordination/COMPUTER_../../x.md", false],
    ["coordination/messages/alpha_TO_all.md", false], // "all" is reserved, ALL is the broadcast
    ["coordination/messages/alpha_TO_Beta.md", false],
    ["coordination/orders/alpha.json.bak", false],
    ["coordination/COMPUTER_alpha.md.bak", false],
    ["coordination/notes.md", false],
    ["status.json", false],
  ])("alpha owns %j: %s", (path, owned) => {
    expect(owns("alpha", path)).toBe(owned);
  });

  it("a machine named like JavaScript's names owns only its own files", () => {
    expect(owns("constructor", "coordination/COMPUTER_constructor.md")).toBe(true);
    expect(owns("constructor", "coordination/COMPUTER_alpha.md")).toBe(false);
    expect(owns("alpha", "coordination/COMPUTER_constructor.md")).toBe(false);
  });
});

describe("ownerOf: what the reader makes of each path", () => {
  it.each([
    ["ORDERS.json", { kind: "orders" }, { kind: "orders" }],
    ["STATUS.md", { kind: "derived" }, { kind: "ignored" }],
    ["coordination/orders.schema.json", { kind: "scaffold" }, { kind: "ignored" }],
    ["docs/a.md", { kind: "outside" }, { kind: "ignored" }],
    ["coordination/COMPUTER_alpha.md", { kind: "computer", machine: "alpha" }, { kind: "computer", name: "alpha" }],
    ["coordination/orders/alpha.json", { kind: "delegated", machine: "alpha" }, { kind: "delegated", owner: "alpha" }],
    ["coordination/messages/alpha_TO_ALL.md", { kind: "messages", machine: "alpha", to: "ALL" }, { kind: "message" }],
  ])("%s", (path, owner, kind) => {
    expect(ownerOf(path)).toEqual(owner);
    expect(classifyPath(path)).toEqual(kind);
  });

  it.each([
    ["coordination/COMPUTER_a\tb.md", /control character/],
    ["coordination/COMPUTER_Alpha.md", /not a valid machine name/],
    ["coordination/COMPUTER_any.md", /reserved/],
    ["coordination/orders/x/y.json", /only files named coordination\/orders\/<machine>.json/],
    ["coordination/messages/a.md", /not a message file/],
    ["coordination/stray.txt", /coord reads only/],
  ])("%j is nobody's: odd, reported, never read", (path, why) => {
    const owner = ownerOf(path);
    expect(owner.kind).toBe("odd");
    expect(owner.kind === "odd" && owner.why).toMatch(why);
  });
});

describe("the commit step refuses what the machine does not own", () => {
  const neverCommits = {
    commitFiles: async (): Promise<string> => {
      throw new Error("commitFiles must not be reached");
    },
  };

  it("a forged change set (another machine's file, ORDERS.json) is refused, naming the paths; nothing is committed", async () => {
    const forged = new Map<string, string | null>([
      ["coordination/COMPUTER_alpha.md", "mine"],
      ["STATUS.json", "{}"],
      ["coordination/COMPUTER_beta.md", "forged"],
      ["ORDERS.json", "{}"],
    ]);
    expect(notOwned("alpha", forged.keys())).toEqual(["coordination/COMPUTER_beta.md", "ORDERS.json"]);
    const refused = commitOwned(neverCommits, "alpha", "0".repeat(40), forged, "coord: alpha status");
    await expect(refused).rejects.toBeInstanceOf(CoordError);
    await expect(refused).rejects.toThrow(
      /^coord refused to publish coordination\/COMPUTER_beta.md, ORDERS.json: machine alpha does not own them \(a machine writes only its own files and STATUS\.\*\); nothing was pushed/,
    );
  });

  it("a path with a control character is refused and printed escaped", async () => {
    const forged = new Map<string, string | null>([["coordination/COMPUTER_alpha.md\nx", "x"]]);
    await expect(commitOwned(neverCommits, "alpha", undefined, forged, "m")).rejects.toThrow(/publish coordination\/COMPUTER_alpha\.md\\nx: machine alpha does not own it/);
  });

  it("its own files and the derived ones are committed", async () => {
    let committed: string[] = [];
    const repo = {
      commitFiles: async (_parent: string | undefined, changes: Map<string, string | null>) => {
        committed = [...changes.keys()];
        return "c0ffee";
      },
    };
    const changes = new Map<string, string | null>([
      ["coordination/COMPUTER_alpha.md", "a"],
      ["coordination/messages/alpha_TO_ALL.md", "m"],
      ["coordination/orders/alpha.json", "{}"],
      ["STATUS.json", "{}"],
      ["STATUS.md", "#"],
    ]);
    expect(await commitOwned(repo, "alpha", undefined, changes, "m")).toBe("c0ffee");
    expect(committed).toEqual([...changes.keys()]);
  });
});
