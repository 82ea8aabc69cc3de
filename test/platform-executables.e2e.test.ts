// The one PATH lookup, on this disk: a program found as Linux finds it, and, read as Windows would (a PATH entry that
// ends with its separator, so that the file is found here), an npm .cmd shim turned into what it starts.
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { launchFor, onPath } from "../src/platform/executables.js";
import { tempDir } from "./helpers.js";

describe("a program on PATH", () => {
  it("Linux: the first runnable file of PATH; one that is not executable is passed over", async () => {
    const a = await tempDir("coord-path-a-");
    const b = await tempDir("coord-path-b-");
    await writeFile(join(a, "tool"), "#!/bin/sh\n"); // not executable
    await writeFile(join(b, "tool"), "#!/bin/sh\n");
    await chmod(join(b, "tool"), 0o755);
    expect(await onPath("tool", `${a}:${b}`, "linux")).toBe(join(b, "tool"));
    expect(await launchFor("tool", `${a}:${b}`, "linux")).toEqual({ file: join(b, "tool"), args: [] });
    expect(await onPath("no-such-tool", `${a}:${b}`, "linux")).toBeUndefined();
  });

  it("Windows: codex.cmd is started as node and its script; a batch file that is no shim is not started", async () => {
    const dir = await tempDir("coord-path-win-");
    await writeFile(
      join(dir, "codex.cmd"),
      '@ECHO off\r\nGOTO start\r\n:start\r\nSETLOCAL\r\nendLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\node_modules\\@openai\\codex\\bin\\codex.js" %*\r\n',
    );
    await writeFile(join(dir, "other.bat"), "@echo off\r\ncall x.bat %*\r\n");
    const path = `${dir}/`;
    expect(await onPath("codex", path, "win32", ".EXE;.CMD")).toBe(join(dir, "codex.cmd"));
    expect(await launchFor("codex", path, "win32", ".EXE;.CMD")).toEqual({ file: process.execPath, args: [`${dir}\\node_modules\\@openai\\codex\\bin\\codex.js`] });
    expect(await launchFor("other", path, "win32", ".EXE;.BAT")).toBeUndefined();
  });
});
