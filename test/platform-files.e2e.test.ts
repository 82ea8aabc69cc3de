// The rename of coord's state files on this disk: read as Windows would, a rename refused for a moment (another
// process holding the file) is tried again and lands; on Linux the same refusal is the caller's at once.
import { readFile, writeFile } from "node:fs/promises";
import { rename as fsRename } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rename } from "../src/platform/files.js";
import { tempDir } from "./helpers.js";

/** fs's rename, refused with `code` the first `times` times (an antivirus scan holding the target). */
function heldFor(times: number, code: string) {
  let calls = 0;
  const op = async (from: string, to: string) => {
    if (calls++ < times) throw Object.assign(new Error(`${code}: operation not permitted, rename`), { code });
    await fsRename(from, to);
  };
  return { op, calls: () => calls };
}

describe("a rename over a file held for a moment", () => {
  it("Windows: tried again until the hold passes; the new text is in place", async () => {
    const dir = await tempDir("coord-rename-");
    await writeFile(join(dir, "state.json"), "old");
    await writeFile(join(dir, "state.json.tmp"), "new");
    const held = heldFor(3, "EPERM");
    await rename(join(dir, "state.json.tmp"), join(dir, "state.json"), "win32", held.op);
    expect(held.calls()).toBe(4);
    expect(await readFile(join(dir, "state.json"), "utf8")).toBe("new");
  });

  it("Linux: the refusal is the caller's at once, the old text stays", async () => {
    const dir = await tempDir("coord-rename-");
    await writeFile(join(dir, "state.json"), "old");
    await writeFile(join(dir, "state.json.tmp"), "new");
    const held = heldFor(1, "EPERM");
    await expect(rename(join(dir, "state.json.tmp"), join(dir, "state.json"), "linux", held.op)).rejects.toMatchObject({ code: "EPERM" });
    expect(held.calls()).toBe(1);
    expect(await readFile(join(dir, "state.json"), "utf8")).toBe("old");
  });

  it("Windows: a file missing is no hold; said at once", async () => {
    const dir = await tempDir("coord-rename-");
    await expect(rename(join(dir, "none"), join(dir, "state.json"), "win32")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
