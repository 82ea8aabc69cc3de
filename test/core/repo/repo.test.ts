// The repository model (src/core/repo/repo.ts): what is read from a commit's files.
import { describe, it, expect } from "vitest";
import { renderComputer } from "../../../src/core/fleet/computer.js";
import { computerPath } from "../../../src/core/files/names.js";
import { readModel } from "../../../src/core/repo/repo.js";
import { EMPTY_ORDERS } from "../../../src/core/setup/scaffold.js";
import { computerFile, ordersJson, repoFiles } from "../../fixtures.js";

const computer = computerFile;

describe("readModel", () => {
  it("reads valid orders and machines, and knows every machine name", () => {
    const files = repoFiles(ordersJson([{ id: "a", to: "izzit7", run: "true" }]), [computer("izzit7"), computer("soda-yeti")]);
    files.set("README.md", "# hub\n");
    const model = readModel(files);
    expect(model.ordersProblems).toEqual([]);
    expect(model.fileProblems).toEqual([]);
    expect(model.orders?.orders.map((o) => o.id)).toEqual(["a"]);
    expect(model.machineNames.sort()).toEqual(["izzit7", "soda-yeti"]);
    expect(model.computers.get("izzit7")?.uuid).toBe("uuid-of-izzit7");
  });

  it("ignores COMPUTER files of reserved names", () => {
    const files = repoFiles(EMPTY_ORDERS, []);
    files.set(computerPath("ALL"), renderComputer(computer("ALL")));
    files.set(computerPath("any"), renderComputer(computer("any")));
    const model = readModel(files);
    expect(model.machineNames).toEqual([]);
    expect(model.fileProblems.map((p) => p.file).sort()).toEqual([computerPath("ALL"), computerPath("any")]);
    for (const p of model.fileProblems) expect(p.message).toMatch(/reserved/);
  });
});
