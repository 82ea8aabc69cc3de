// A program on PATH, found as its system finds it, and what to start for it (core/platform/executables.ts): the one
// PATH lookup of coord (agent CLIs, ssh-keygen, systemctl, launchctl, crontab, a sandbox's tool).
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { win32 } from "node:path";
import { type Launch, needsShell, npmShimLaunch, type Platform, pathCandidates } from "../core/platform/executables.js";
import { system } from "./system.js";

const runnable = (file: string, platform: Platform) =>
  // Windows has no execute bit: a file there is runnable by its extension, which the candidates carry.
  access(file, platform === "win32" ? constants.F_OK : constants.X_OK).then(
    () => true,
    () => false, // ENOENT or EACCES: not runnable from here
  );

/** The full path of `name` on `path` (PATH; PATHEXT on Windows), if it is there. */
export async function onPath(name: string, path = process.env.PATH ?? "", platform: Platform = system(), pathext = process.env.PATHEXT): Promise<string | undefined> {
  for (const file of pathCandidates(name, path, platform, pathext)) if (await runnable(file, platform)) return file;
  return undefined;
}

/**
 * What to start for `name` on `path`: the file found, or on Windows what its npm `.cmd` shim starts (the package's
 * .exe, or node with its script: node.exe beside the shim when there is one, else this node). Undefined when it is not
 * there, or is a batch file coord cannot read as a shim (it would need cmd.exe).
 */
export async function launchFor(name: string, path = process.env.PATH ?? "", platform: Platform = system(), pathext = process.env.PATHEXT): Promise<Launch | undefined> {
  const found = await onPath(name, path, platform, pathext);
  if (!found) return undefined;
  if (!needsShell(found, platform)) return { file: found, args: [] };
  const text = await readFile(found, "utf8").catch(() => undefined);
  const dir = win32.dirname(found);
  const beside = win32.join(dir, "node.exe");
  const node = (await runnable(beside, platform)) ? beside : process.execPath;
  return text === undefined ? undefined : npmShimLaunch(text, dir, node);
}
