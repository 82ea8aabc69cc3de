// Stopping a process tree on this system (core/platform/tree.ts says how on
// each): a signal to its group on Linux and macOS, `taskkill /T /F` on
// Windows. The one way coord ends what it started: tasks, turns, services,
// git, a CLI's answer to a question.
import { spawn } from "node:child_process";
import { treeProbe, treeSpawnOptions, treeStop } from "../core/platform/tree.js";
import { system } from "./system.js";

/** Sends `signal` to the tree process `pid` leads; nothing when it is gone. Never throws. */
export function killTree(pid: number, signal: NodeJS.Signals, platform: NodeJS.Platform = system()): void {
  const how = treeStop(platform, pid, signal);
  if (how.kind === "group") {
    try {
      process.kill(how.pid, how.signal);
    } catch {
      // The group is already gone.
    }
    return;
  }
  try {
    const child = spawn(how.file, how.args, { stdio: "ignore", windowsHide: true });
    child.on("error", () => {}); // not there: nothing more can be done from here
    child.unref();
  } catch {
    // Could not start: the tree is left to end with its leader.
  }
}

/** Whether any process of the tree `pid` leads is left (Windows: its leader, the only one Node can ask about). */
export function treeAlive(pid: number, platform: NodeJS.Platform = system()): boolean {
  try {
    process.kill(treeProbe(platform, pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The spawn options of a process that leads a tree of its own (a group; on Windows, no console window). */
export const ownTree = (platform: NodeJS.Platform = system()) => treeSpawnOptions(platform);
