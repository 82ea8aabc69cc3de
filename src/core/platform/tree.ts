// How a process tree is stopped on each system. A process coord starts leads a
// group of its own (spawn's `detached`); on Linux and macOS a signal to the
// negative pid reaches the whole group. Windows has neither signals nor
// groups: `taskkill /T /F` ends a process and every process it started, by
// their parent links, and a console program has no gentler stop (Node's own
// kill on Windows is TerminateProcess too), so every signal is /F there.

/** What stops a tree: a signal to a group, or a command to run. */
export type TreeStop = { kind: "group"; pid: number; signal: NodeJS.Signals } | { kind: "command"; file: string; args: string[] };

/** How to send `signal` to the tree process `pid` leads, on `platform`. */
export function treeStop(platform: NodeJS.Platform, pid: number, signal: NodeJS.Signals): TreeStop {
  if (platform === "win32") return { kind: "command", file: "taskkill", args: ["/PID", String(pid), "/T", "/F"] };
  return { kind: "group", pid: -pid, signal };
}

/** Which pid to ask whether a tree is still there: its group (any member) where there are groups, else its leader. */
export function treeProbe(platform: NodeJS.Platform, pid: number): number {
  return platform === "win32" ? pid : -pid;
}

/**
 * The options that start a process leading a tree of its own: a group (`detached`), and on Windows, where `detached`
 * means a console of its own, that console hidden (no window flashes up for each git or agent process).
 */
export function treeSpawnOptions(platform: NodeJS.Platform): { detached: true; windowsHide?: true } {
  return platform === "win32" ? { detached: true, windowsHide: true } : { detached: true };
}
