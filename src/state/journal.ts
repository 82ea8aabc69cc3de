// The journal: what this machine did for each order, the source of truth for
// its own file. Every transition is written durably before it takes effect, so
// a task is started at most once per (order, rev) even across crashes.
import { join } from "node:path";
import * as z from "zod";
import { compareRuns, SLOT } from "../core/time/every.js";
import { adopted, isRefusal, type TaskEntry, type TaskEvent, transition } from "../core/work/task-life.js";
import { isRecord, ownTable, TASK_STATES } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { setAside } from "./corrupt.js";
import { readIfExists, writeDurably } from "./files.js";
import type { TaskReport } from "../core/fleet/computer.js";

/** A task's entry: its report, the local path of the full log of the last attempt, the process id while in progress. */
export type JournalEntry = TaskEntry;

// Written out: parseJournal checks it field by field (entries loosely, with entrySchema) and keeps unknown fields.
export interface JournalData {
  version: 1;
  tasks: Record<string, JournalEntry>;
  /** When this machine last published its file (ISO time), for the heartbeat. */
  lastPublished?: string;
  /** A one-line summary of the last sync that did something, published in the machine's file. */
  lastRun?: string;
}

/** The fields coord relies on in each entry; others are kept as they are. */
const entrySchema = z.looseObject({
  rev: z.number().int().min(1),
  slot: z.string().regex(SLOT).optional(),
  state: z.enum(TASK_STATES),
  attempts: z.number().int().min(0),
  exitCode: z.number().int().nullable().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  reason: z.string().optional(),
  output: z.string().optional(),
  lease: z.number().optional(),
  takeoverFrom: z.string().optional(),
  retryAt: z.string().optional(),
  log: z.string().optional(),
  pid: z.number().int().optional(),
});

/** The journal in `text`, or what is wrong with it ("version 2" for one of a newer coord). */
export function parseJournal(text: string): JournalData | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (!isRecord(raw)) return "not a JSON object";
  if (typeof raw.version === "number" && raw.version > 1) return `version ${raw.version}`;
  if (raw.version !== 1) return "no version 1";
  if (!isRecord(raw.tasks)) return "tasks is not an object";
  for (const key of ["lastPublished", "lastRun"]) if (raw[key] !== undefined && typeof raw[key] !== "string") return `${key} is not a text`;
  // Keyed by order id: a table without a prototype, so no id ("__proto__", "constructor") is special.
  const tasks: Record<string, JournalEntry> = ownTable();
  for (const [id, entry] of Object.entries(raw.tasks)) {
    const r = entrySchema.safeParse(entry);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      return `task ${JSON.stringify(id)}${issue.path.length ? ` field ${issue.path.join(".")}` : ""}: ${issue.message}`;
    }
    tasks[id] = entry as JournalEntry;
  }
  return { ...(raw as unknown as JournalData), tasks };
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
    if (text === undefined) return new Journal(path, { version: 1, tasks: ownTable() }, true);
    const data = parseJournal(text);
    if (typeof data !== "string") return new Journal(path, data);
    if (data.startsWith("version ")) throw new CoordError(`the journal ${path} is of ${data}, written by a newer coord; update coord on this machine`, EXIT.USAGE);
    // Broken (a bad hand edit, disk corruption): kept aside, and rebuilt from what this machine published.
    await setAside(path, data, "a new journal starts from what this machine published, so nothing it ran runs again");
    return new Journal(path, { version: 1, tasks: ownTable() }, true);
  }

  get tasks(): Record<string, JournalEntry> {
    return this.data.tasks;
  }

  /**
   * A step of the task's life (core/work/task-life.ts), in memory at once and then
   * durably. A transition the table does not allow (running a completed task
   * again, going back a rev) is refused with a CoordError and changes nothing.
   */
  async apply(id: string, event: TaskEvent): Promise<JournalEntry | undefined> {
    const next = transition(this.entry(id), event);
    if (isRefusal(next)) throw new CoordError(`task ${id}: coord refused to ${next.refused}; nothing was changed (this is a bug in coord, please report it)`, EXIT.FAILURE);
    if (next) this.data.tasks[id] = next;
    else delete this.data.tasks[id];
    await this.save();
    return next;
  }

  /** The entry of order `id` (never an inherited property). */
  entry(id: string): JournalEntry | undefined {
    return Object.hasOwn(this.data.tasks, id) ? this.data.tasks[id] : undefined;
  }

  async save(): Promise<void> {
    await writeDurably(this.path, JSON.stringify(this.data, null, 2) + "\n");
  }

  /**
   * A journal that was lost starts again from the tasks this machine had
   * published, so nothing it ran runs again; what was running or claimed then
   * counts as interrupted.
   */
  async adopt(published: Record<string, TaskReport>, opts: { newer?: boolean } = {}): Promise<void> {
    for (const [id, t] of Object.entries(published)) {
      const mine = Object.hasOwn(this.data.tasks, id) ? this.data.tasks[id] : undefined;
      // With `newer`, a published record further along (a later run — rev, slot —, more attempts) replaces this machine's own.
      const order = mine === undefined ? 0 : compareRuns(t, mine);
      const further = mine !== undefined && opts.newer === true && (order > 0 || (order === 0 && t.attempts > mine.attempts));
      if (mine === undefined || further) this.data.tasks[id] = adopted(t);
    }
    await this.save();
  }

  /** Tasks a crash left in progress become failed, reason interrupted. Returns their ids. */
  async recoverInterrupted(now: Date): Promise<string[]> {
    const ids = Object.keys(this.tasks).filter((id) => this.tasks[id]!.state === "in_progress");
    for (const id of ids) await this.apply(id, { kind: "interrupt", at: now.toISOString() });
    return ids;
  }
}
