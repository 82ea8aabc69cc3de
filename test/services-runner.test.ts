// A service's process at the edges: its log bounded while it appends.
// (Its processes, started and stopped: services-runner.e2e.test.ts.)
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { boundLog, readTail } from "../src/runner/service.js";
import { tempDir } from "./helpers.js";

describe("boundLog and readTail", () => {
  it("past the cap the log moves to .1 and starts empty; the tail reads the end", async () => {
    const dir = await tempDir();
    const log = join(dir, "web.log");
    await writeFile(log, "a".repeat(100) + "\nlast line\n");
    await boundLog(log, 1000);
    expect(await readFile(log, "utf8")).toContain("last line"); // under the cap: untouched
    expect(await readTail(log, 10)).toBe("last line\n");
    await boundLog(log, 50);
    expect(await readFile(log, "utf8")).toBe("");
    expect(await readFile(`${log}.1`, "utf8")).toContain("last line");
    expect(await readTail(join(dir, "missing.log"), 10)).toBe("");
  });
});
