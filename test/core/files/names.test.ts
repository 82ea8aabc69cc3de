// Machine names (src/core/files/names.ts): which are valid, and the path of each
// machine's file.
import { describe, it, expect } from "vitest";
import { computerPath, machineNameProblem, machineOfPath } from "../../../src/core/files/names.js";

describe("machine names", () => {
  it("accepts the seeds' names and the longest name", () => {
    for (const name of ["izzit7", "soda-yeti", "machine-2", "1", "2", "a", "a-", "x".repeat(63)]) expect(machineNameProblem(name), name).toBeUndefined();
  });

  it("refuses invalid and reserved names, saying why", () => {
    for (const name of ["", "Izzit7", "-a", "a_b", "a.b", "a b", "é", "x".repeat(64), "../etc", "a/b"])
      expect(machineNameProblem(name), JSON.stringify(name)).toMatch(/not a valid machine name/);
    for (const name of ["all", "ALL", "any", "ANY", "All"]) expect(machineNameProblem(name), name).toMatch(/reserved/);
  });

  it("maps names to COMPUTER file paths and back", () => {
    expect(computerPath("soda-yeti")).toBe("coordination/COMPUTER_soda-yeti.md");
    expect(machineOfPath("coordination/COMPUTER_soda-yeti.md")).toBe("soda-yeti");
    expect(machineOfPath(computerPath("1"))).toBe("1");
    expect(machineOfPath("coordination/messages/a_TO_b.md")).toBeUndefined();
    expect(machineOfPath("COMPUTER_x.md")).toBeUndefined();
    expect(machineOfPath("coordination/COMPUTER_x.md.bak")).toBeUndefined();
    expect(machineOfPath("coordination/orders.schema.json")).toBeUndefined();
  });
});
