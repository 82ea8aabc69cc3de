// The journal: what this machine did for each order, the source of truth for
// its own file. Every transition is written durably before it takes effect, so
// a task is started at most once per (order, rev) even across crashes.
import { join } from "node:path";
import type { TaskReport } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, writeDurably } from "./files.js";

export interface JournalEntry extends TaskReport {
  /** Local path of the full log of the last attempt. */
  log?: string;
  /** Process id while in progress. */
  pid?: number;
}

export interface JournalData {
  version: 1;
  tasks: Record<string, JournalEntry>;
  /** When this machine last published its file (ISO time), for the heartbeat. */
  lastPublished?: string;
  /** A one-line summary of the last sync that did something, published in the machine's file. */
  lastRun?: string;
}

export class Journal {
  private constructor(
    readonly path: string,
    public data: JournalData,
    /** True when there was no journal file: a new machine, or one that lost its local state. */
    readonly fresh = false,
  ) {}

  static async open(stateDir: string): Promise<Journal> {
    const path = join(stateDir, "journal.json");
    const text = await readIfExists(path);
    if (text === undefined) return new Journal(path, { version: 1, tasks: {} }, true);
    try {
      const data = JSON.parse(text) as JournalData;
      if (data.version !== 1 || typeof data.tasks !== "object") throw new Error("unknown journal version");
      return new Journal(path, data);
    } catch (e) {
      throw new CoordError(`the journal ${path} cannot be read (${(e as Error).message}); move it aside and run coord sync again: it rebuilds the journal from what this machine published, so nothing it ran runs again`, EXIT.USAGE);
    }
  }

  get tasks(): Record<string, JournalEntry> {
    return this.data.tasks;
  }

  async set(id: string, entry: JournalEntry): Promise<void> {
    this.data.tasks[id] = entry;
    await this.save();
  }

  async save(): Promise<void> {
    await writeDurably(this.path, JSON.stringify(this.data, null, 2) + "\n");
  }

  /**
   * A journal that was lost starts again from the tasks this machine had
   * published, so nothing it ran runs again; what was running or claimed then
   * counts as interrupted.
   */
  async adopt(published: Record<string, TaskReport>): Promise<void> {
    for (const [id, t] of Object.entries(published))
      if (!Object.hasOwn(this.data.tasks, id))
        this.data.tasks[id] = t.state === "in_progress" || t.state === "assigned" ? { ...t, state: "failed", exitCode: null, reason: "interrupted" } : { ...t };
    await this.save();
  }

  /** Tasks a crash left in progress become failed, reason interrupted. Returns their ids. */
  async recoverInterrupted(now: Date): Promise<string[]> {
    const ids = Object.keys(this.tasks).filter((id) => this.tasks[id]!.state === "in_progress");
    for (const id of ids) {
      const { pid: _pid, ...rest } = this.tasks[id]!;
      this.data.tasks[id] = { ...rest, state: "failed", exitCode: null, finishedAt: now.toISOString(), reason: "interrupted" };
    }
    if (ids.length) await this.save();
    return ids;
  }
}
