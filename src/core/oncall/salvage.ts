// What can be kept of a damaged `.git/coord/on-call.json` (a bad hand edit, disk corruption): each part that still
// passes its schema — today's spend, each thread (its session, its queue), the taken ids, each request — is kept as
// written, the rest is lost and named. A spend that cannot be read is never taken as zero: the daily budget counts
// as spent that day (`held`), until a person sets it (coord agent on-call --spent-today). Pure.
import { isRecord, ownTable } from "../types.js";
import { plural } from "../limits.js";
import type { ApprovalRequest, OnCallState, ThreadState } from "./turn-state.js";
import { onCallParts } from "./turn-state.js";

/** The state kept of a damaged file, and in words what was kept and what was lost. */
export interface Salvaged {
  state: OnCallState;
  kept: string;
  lost: string;
}

/** What a held spend means, in words (doctor, coord agent on-call, the log). */
export const SPEND_HELD =
  "its daily budget (when one is set) counts as spent for the rest of today (UTC), so no turn starts today until a person sets today's spend: coord agent on-call --spent-today <usd>";

/** The parts of `raw` (the file's JSON, undefined when it is not JSON) that pass their schema, at `now`. */
export function salvageOnCallState(raw: unknown, now: Date): Salvaged {
  const today = now.toISOString().slice(0, 10);
  const r = isRecord(raw) ? raw : undefined;
  const kept: string[] = [];
  const lost: string[] = [];
  const state: OnCallState = { version: 1, threads: ownTable(), taken: [] };

  // Today's spend: kept when it reads; none written is none spent; one that cannot be read holds the budget.
  const spent = r && "spent" in r ? onCallParts.spent.safeParse(r.spent) : undefined;
  if (r && !("spent" in r)) {
    // Nothing spent was recorded: nothing to keep, nothing lost.
  } else if (spent?.success) {
    state.spent = spent.data;
    if (spent.data.day === today) kept.push(`today's spend ($${spent.data.usd.toFixed(4)})`);
  } else {
    state.spent = { day: today, usd: 0, held: true };
    lost.push(`today's spend: ${SPEND_HELD}`);
  }

  const threads = r && isRecord(r.threads) ? Object.entries(r.threads) : [];
  const broken: string[] = [];
  let sessions = 0;
  for (const [id, t] of threads) {
    const p = onCallParts.thread.safeParse(t);
    if (!p.success) {
      broken.push(id);
      continue;
    }
    state.threads[id] = t as ThreadState; // as written: a newer coord's fields are kept
    if (p.data.session) sessions++;
  }
  if (threads.length > broken.length)
    kept.push(`${broken.length ? `${threads.length - broken.length} of ${threads.length} threads` : plural(threads.length, "thread")} (${plural(sessions, "session")})`);
  if (broken.length)
    lost.push(`${plural(broken.length, "thread")} (${clipped(broken)}): each one's next message starts a new session of the agent, and what waited in it is not answered`);
  else if (!r || !isRecord(r.threads)) lost.push("every thread: each one's next message starts a new session of the agent");

  if (r && Array.isArray(r.taken)) state.taken = r.taken.filter((x): x is string => typeof x === "string");
  else lost.push("the list of messages already taken (one taken just before may be taken again)");

  const requests = r && isRecord(r.requests) ? Object.entries(r.requests) : [];
  const good = requests.filter(([, q]) => onCallParts.request.safeParse(q).success);
  if (good.length) state.requests = ownTable(Object.fromEntries(good) as Record<string, ApprovalRequest>);
  if (good.length) kept.push(plural(good.length, "permission request"));
  if (good.length < requests.length) lost.push(plural(requests.length - good.length, "permission request"));

  return { state, kept: kept.join(", ") || "nothing", lost: lost.join("; ") || "nothing" };
}

/** Up to 3 names, then how many more. */
function clipped(names: string[]): string {
  return names.length <= 3 ? names.join(", ") : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

/** How long after a damaged file was set aside doctor and coord agent on-call say so (a held spend: as long as it holds). */
export const SET_ASIDE_SAID_MS = 86_400_000;

/** What doctor and coord agent on-call say of a damaged on-call.json at `now` (undefined: nothing, or said long enough). */
export function setAsideNotice(state: OnCallState, path: string, now: Date): string | undefined {
  const a = state.setAside;
  const held = state.spent?.held === true && state.spent.day === now.toISOString().slice(0, 10);
  if (!a || (!held && now.getTime() - Date.parse(a.at) >= SET_ASIDE_SAID_MS)) return undefined;
  return `${path} could not be read (${a.problem}) and was set aside as ${a.aside} at ${a.at}; kept: ${a.kept}; lost: ${a.lost}`;
}
