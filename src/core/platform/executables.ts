// Finding a program on PATH as each system does, and what to start for it: on Windows npm installs a CLI as a `.cmd`
// shim, which Node 20.12.2 and later refuse to spawn without a shell (EINVAL), and a shell brings cmd.exe's quoting.
// coord starts what the shim starts instead: the package's own `.exe`, or node with the package's script. Pure:
// platform/executables.ts looks at the disk.

export type Platform = "linux" | "darwin" | "win32" | (string & {});

/** PATH's separator on `platform`. */
export const pathDelimiter = (platform: Platform): string => (platform === "win32" ? ";" : ":");

/** Windows' default PATHEXT, when the environment has none. */
export const DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD";

/** Joins a directory and a name with the separator of `platform`. */
const joinOn = (platform: Platform, dir: string, name: string): string => {
  const sep = platform === "win32" ? "\\" : "/";
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${name}` : `${dir}${sep}${name}`;
};

/**
 * The files to look for, in order, when `name` is run with `path` (PATH) on `platform`: each directory's `name` on
 * Linux and macOS; on Windows each directory's `name` with each extension of PATHEXT (`name` alone first when it has
 * an extension of its own), as cmd.exe looks.
 */
export function pathCandidates(name: string, path: string, platform: Platform, pathext = DEFAULT_PATHEXT): string[] {
  const dirs = path.split(pathDelimiter(platform)).filter(Boolean);
  if (platform !== "win32") return dirs.map((d) => joinOn(platform, d, name));
  const exts = pathext
    .split(";")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => /^\.[a-z0-9]+$/.test(e));
  const own = /\.[A-Za-z0-9]+$/.exec(name)?.[0]?.toLowerCase();
  const names = own && exts.includes(own) ? [name] : exts.map((e) => `${name}${e}`);
  return dirs.flatMap((d) => names.map((n) => joinOn(platform, d, n)));
}

/** What to start for a program found on PATH: its own file, or what its npm shim starts. */
export interface Launch {
  /** The program: an .exe, a script of node's, or the file itself. */
  file: string;
  /** Arguments before the command's own (node's script). */
  args: string[];
}

/**
 * What an npm `.cmd` shim (npm's cmd-shim, old and new) starts: the last file it names below its own directory
 * (`%dp0%\…` or `%~dp0\…`, node.exe aside): an `.exe` directly, a script with node (`node`: node.exe beside the
 * shim when there is one, else node on PATH; coord passes its own). Undefined when the text is not such a shim.
 */
export function npmShimLaunch(text: string, shimDir: string, node: string): Launch | undefined {
  const targets = [...text.matchAll(/"%~?dp0%?\\([^"]+)"/g)].map((m) => m[1]!).filter((t) => !/^node\.exe$/i.test(t));
  const target = targets[targets.length - 1];
  if (!target) return undefined;
  const file = `${shimDir.replace(/[\\/]+$/, "")}\\${target}`;
  return /\.exe$/i.test(target) ? { file, args: [] } : { file: node, args: [file] };
}

/** Whether a file found on PATH needs cmd.exe to run (a batch file): it cannot be spawned as it is. */
export const needsShell = (file: string, platform: Platform): boolean => platform === "win32" && /\.(cmd|bat)$/i.test(file);
