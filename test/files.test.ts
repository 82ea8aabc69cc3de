// Local state files are replaced whole (src/state/files.ts): a temp file beside
// the file, renamed over it; writes of one file land in the order asked, even
// when not awaited (the journal's pid write is not).
import { lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sweepTempFiles, writeDurably, writeThroughLink, writeWhole } from "../src/state/files.js";
import { tempDir } from "./helpers.js";

describe("writing a local state file", () => {
  it.each([
    ["durably", writeDurably],
    ["whole", writeWhole],
  ])("%s: replaces the file, 0600, and leaves no temp file", async (_, write) => {
    const dir = await tempDir();
    const path = join(dir, "journal.json");
    await writeFile(path, "old\n", { mode: 0o644 });
    await write(path, "new\n");
    expect(await readFile(path, "utf8")).toBe("new\n");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });

  it("lands writes of one file in the order they were asked, awaited or not", async () => {
    const dir = await tempDir();
    const path = join(dir, "journal.json");
    const texts = Array.from({ length: 40 }, (_, i) => `${"x".repeat((40 - i) * 500)} ${i}\n`); // the first the longest: the slowest to write
    await Promise.all(texts.map((t, i) => (i % 2 ? writeDurably(path, t) : writeWhole(path, t))));
    expect(await readFile(path, "utf8")).toBe(texts.at(-1));
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });

  it("a person's file is written through a link (a settings file kept in a dotfiles repository stays a link)", async () => {
    const dir = await tempDir();
    const real = join(dir, "dotfiles-settings.json");
    await writeFile(real, "{}\n");
    const link = join(dir, "settings.json");
    await symlink(real, link);
    await writeThroughLink(link, '{"new":true}\n');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, "utf8")).toBe('{"new":true}\n');
    expect((await readdir(dir)).sort()).toEqual(["dotfiles-settings.json", "settings.json"]);
  });

  it.each([
    ["writeDurably", writeDurably],
    ["writeWhole", writeWhole],
  ])("coord's own file (%s): a link at its place is replaced, the file it points at untouched (an agent's link to a dotfile)", async (_name, write) => {
    const dir = await tempDir();
    const victim = join(dir, "bashrc");
    await writeFile(victim, "the person's\n");
    const link = join(dir, "sync-request");
    await symlink(victim, link);
    await write(link, "2026-11-28T15:00:00Z 42\n");
    expect((await lstat(link)).isFile()).toBe(true);
    expect(await readFile(link, "utf8")).toBe("2026-11-28T15:00:00Z 42\n");
    expect(await readFile(victim, "utf8")).toBe("the person's\n");
  });

  it("sweeps the temp files of writes that never ended, an hour old or more, and nothing else", async () => {
    const dir = await tempDir();
    const names = ["journal.json.4242.0123456789ab.tmp", "journal.json.4243.0123456789ab.tmp", "journal.json", "notes.tmp", "x.1.0123456789ab.tmp.bak"];
    for (const n of names) await writeFile(join(dir, n), "x");
    const hourAgo = new Date(Date.now() - 61 * 60_000);
    for (const n of [names[0]!, names[3]!, names[4]!]) await utimes(join(dir, n), hourAgo, hourAgo);
    await sweepTempFiles(dir);
    expect((await readdir(dir)).sort()).toEqual(names.slice(1).sort()); // the fresh one may be a write in flight
    await sweepTempFiles(join(dir, "missing")); // nothing to sweep: no error
  });

  it("fails a write it cannot make, leaves the file as it was, and the next write of the file goes on", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "a-directory"));
    const path = join(dir, "a-directory");
    await expect(writeDurably(path, "text")).rejects.toThrow(/EISDIR|directory/);
    expect(await readdir(dir)).toEqual(["a-directory"]);
    await expect(writeDurably(join(dir, "missing", "file"), "text")).rejects.toThrow(/ENOENT/);
    const ok = join(dir, "ok");
    await Promise.all([writeDurably(join(dir, "missing", "file"), "x").catch(() => {}), writeDurably(ok, "fine\n")]);
    expect(await readFile(ok, "utf8")).toBe("fine\n");
  });
});
