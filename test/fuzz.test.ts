// Fuzzing what coord reads from the repository, part one: mutated ORDERS.json and machine files go through reading,
// planning, status and rendering (fuzz-pieces.ts). Part two, message files, whole trees and local state:
// fuzz-trees.test.ts (a file of its own so that two workers share the fuzzing).
import fc from "fast-check";
import { describe, it } from "vitest";
import { renderComputer } from "../src/core/fleet/computer.js";
import { computerPath } from "../src/core/files/names.js";
import { base, computerArb, edits, mutate, ORDER_IDS, ordersDoc, params, throughEverything } from "./fuzz-pieces.js";

describe("fuzz: what the repository holds never stops or fools a machine", () => {
  it("mutated ORDERS.json", () => {
    fc.assert(
      fc.property(ordersDoc, edits, (doc, e) => {
        throughEverything(base(mutate(JSON.stringify(doc, null, 2), e)));
      }),
      params(),
    );
  });

  it("mutated machine files", () => {
    const orders = JSON.stringify({
      version: 1,
      orders: ORDER_IDS.map((id, i) => ({ id, to: i % 2 ? "ANY" : "ALL", run: "true", after: i > 2 ? [ORDER_IDS[i - 1]] : [], retries: 2 })),
    });
    fc.assert(
      fc.property(computerArb("alpha"), computerArb("beta"), edits, (a, b, e) => {
        const files = base(orders);
        files.set(computerPath("alpha"), mutate(renderComputer(a), e));
        files.set(computerPath("beta"), renderComputer(b));
        throughEverything(files);
      }),
      params(),
    );
  });
});
