// A program on PATH as Linux, macOS and Windows find it, and what starts for an npm `.cmd` shim (npm installs the
// agent CLIs so on Windows; Node 20.12.2 and later spawn no .cmd without a shell): recorded shims of npm's cmd-shim.
import { describe, expect, it } from "vitest";
import { needsShell, npmShimLaunch, pathCandidates, pathDelimiter } from "../../../src/core/platform/executables.js";

describe("PATH, as each system looks", () => {
  it.each([
    { platform: "linux", path: "/usr/local/bin:/usr/bin", name: "claude", want: ["/usr/local/bin/claude", "/usr/bin/claude"] },
    { platform: "darwin", path: "/opt/homebrew/bin::/usr/bin/", name: "codex", want: ["/opt/homebrew/bin/codex", "/usr/bin/codex"] },
    {
      platform: "win32",
      path: "C:\\Users\\pat\\AppData\\Roaming\\npm;C:\\Program Files\\Git\\cmd",
      name: "git",
      want: [
        "C:\\Users\\pat\\AppData\\Roaming\\npm\\git.com",
        "C:\\Users\\pat\\AppData\\Roaming\\npm\\git.exe",
        "C:\\Users\\pat\\AppData\\Roaming\\npm\\git.bat",
        "C:\\Users\\pat\\AppData\\Roaming\\npm\\git.cmd",
        "C:\\Program Files\\Git\\cmd\\git.com",
        "C:\\Program Files\\Git\\cmd\\git.exe",
        "C:\\Program Files\\Git\\cmd\\git.bat",
        "C:\\Program Files\\Git\\cmd\\git.cmd",
      ],
    },
    { platform: "win32", path: "C:\\bin", name: "tool.exe", want: ["C:\\bin\\tool.exe"] },
  ])("$platform: $name", ({ platform, path, name, want }) => expect(pathCandidates(name, path, platform)).toEqual(want));

  it("PATHEXT as the environment has it, and PATH's separator", () => {
    expect(pathCandidates("claude", "C:\\npm", "win32", ".EXE;.CMD;;bad")).toEqual(["C:\\npm\\claude.exe", "C:\\npm\\claude.cmd"]);
    expect(pathDelimiter("win32")).toBe(";");
    expect(pathDelimiter("darwin")).toBe(":");
  });

  it("a batch file needs cmd.exe; nothing else does", () => {
    expect(needsShell("C:\\npm\\codex.cmd", "win32")).toBe(true);
    expect(needsShell("C:\\npm\\x.BAT", "win32")).toBe(true);
    expect(needsShell("C:\\npm\\claude.exe", "win32")).toBe(false);
    expect(needsShell("/usr/bin/codex.cmd", "linux")).toBe(false);
  });
});

// npm 7 and later (cmd-shim 4-7): the last line starts the target, with node ("%_prog%") for a script.
const nodeShim = (target: string) =>
  [
    "@ECHO off",
    "GOTO start",
    ":find_dp0",
    "SET dp0=%~dp0",
    "EXIT /b",
    ":start",
    "SETLOCAL",
    "CALL :find_dp0",
    "",
    'IF EXIST "%dp0%\\node.exe" (',
    '  SET "_prog=%dp0%\\node.exe"',
    ") ELSE (",
    '  SET "_prog=node"',
    "  SET PATHEXT=%PATHEXT:;.JS;=;%",
    ")",
    "",
    `endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\${target}" %*`,
    "",
  ].join("\r\n");
const exeShim = (target: string) =>
  ["@ECHO off", "GOTO start", ":find_dp0", "SET dp0=%~dp0", "EXIT /b", ":start", "SETLOCAL", "CALL :find_dp0", `"%dp0%\\${target}"   %*`, ""].join("\r\n");
// npm 6 (cmd-shim 3): %~dp0, node.exe beside it or node on PATH.
const oldShim = (target: string) =>
  [
    '@IF EXIST "%~dp0\\node.exe" (',
    `  "%~dp0\\node.exe"  "%~dp0\\${target}" %*`,
    ") ELSE (",
    "  @SETLOCAL",
    "  @SET PATHEXT=%PATHEXT:;.JS;=;%",
    `  node  "%~dp0\\${target}" %*`,
    ")",
  ].join("\r\n");

describe("what an npm .cmd shim starts", () => {
  const dir = "C:\\Users\\pat\\AppData\\Roaming\\npm";
  const node = "C:\\Program Files\\nodejs\\node.exe";
  it.each([
    {
      why: "codex: its script, with node",
      text: nodeShim("node_modules\\@openai\\codex\\bin\\codex.js"),
      want: { file: node, args: [`${dir}\\node_modules\\@openai\\codex\\bin\\codex.js`] },
    },
    {
      why: "claude: its own .exe",
      text: exeShim("node_modules\\@anthropic-ai\\claude-code\\bin\\claude.exe"),
      want: { file: `${dir}\\node_modules\\@anthropic-ai\\claude-code\\bin\\claude.exe`, args: [] },
    },
    { why: "a local install (node_modules\\.bin)", text: nodeShim("..\\opencode-ai\\bin\\opencode"), want: { file: node, args: [`${dir}\\..\\opencode-ai\\bin\\opencode`] } },
    {
      why: "npm 6's shim",
      text: oldShim("node_modules\\@google\\gemini-cli\\dist\\index.js"),
      want: { file: node, args: [`${dir}\\node_modules\\@google\\gemini-cli\\dist\\index.js`] },
    },
    { why: "a batch file of someone's own", text: "@echo off\r\ncall something.bat %*\r\n", want: undefined },
  ])("$why", ({ text, want }) => expect(npmShimLaunch(text, dir, node)).toEqual(want));
});
