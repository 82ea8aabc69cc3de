// Local state that cannot be read (disk corruption, a bad hand edit) is kept
// aside as <file>.corrupt-<time>, never deleted, and said in one sentence: in
// the machine's log (coord logs) and in the warnings of the next sync.
import { dirname } from "node:path";
import { rename } from "../platform/files.js";
import type * as z from "zod";
import { dataProblem } from "../core/files/frontmatter.js";
import { isRecord } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { appendLog } from "./logs.js";

/** A state file's text as its schema checked it: the data (and the JSON as parsed), or what is wrong with it, for setAside. */
export type StateCheck<T> = { ok: true; data: T; raw: unknown } | { ok: false; problem: string; newer?: number };

/**
 * Parses a JSON state file and checks it with `schema`. `versioned`: a file
 * whose `version` is above 1 was written by a newer coord; it is not broken,
 * and is never set aside (`newer` says which version, for the caller to refuse).
 */
export function checkState<S extends z.ZodType>(text: string, schema: S, { versioned = false } = {}): StateCheck<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `not JSON: ${(e as Error).message}` };
  }
  if (versioned && isRecord(raw) && typeof raw.version === "number" && raw.version > 1) return { ok: false, problem: `version ${raw.version}`, newer: raw.version };
  const r = schema.safeParse(raw);
  return r.success ? { ok: true, data: r.data, raw } : { ok: false, problem: dataProblem(r.error.issues[0]!, "the file") };
}

/** Where setAside keeps the broken file `path` at `now`. */
export function asidePath(path: string, now: Date): string {
  return `${path}.corrupt-${now.toISOString().replace(/[:.]/g, "-")}`;
}

/** Sentences about state kept aside in this process, not yet reported by a sync. */
const pending: string[] = [];

/**
 * Moves the broken file `path` aside and says so: `problem` is what is wrong
 * with it, `next` what coord does now ("starts a new one: …"). Another process
 * that moved it first is fine.
 */
export async function setAside(path: string, problem: string, next: string, now = new Date()): Promise<string> {
  const aside = asidePath(path, now);
  await rename(path, aside).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT")
      throw new CoordError(`${path} could not be read (${problem}) nor moved aside (${e.code ?? e.message}); move it aside by hand and run coord sync again`, EXIT.FAILURE);
  });
  const sentence = `${path} could not be read (${problem}); it was kept aside as ${aside} and ${next}`;
  pending.push(sentence);
  await appendLog(dirname(path), { kind: "state", warning: sentence }).catch(() => {});
  return sentence;
}

/** The sentences about state kept aside since the last call (a sync reports them as warnings). */
export function takeSetAside(): string[] {
  return pending.splice(0);
}
