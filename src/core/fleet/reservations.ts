// Path reservations: a machine says "I am editing these paths until then", in
// its own file, so that two agents never edit the same files unknowingly. The
// rule (pure: the clock is passed in):
//
// - A pattern is a path relative to the project's root, with globs: `*` (any
//   characters but `/`), `?` (one), `[a-z]` / `[!a-z]` (one of a set; a set
//   also matches its own text, so `app/[id]/page.tsx` covers that very file),
//   `{a,b}` (either), `**` as a whole segment (any number of directories; so
//   is `***`, as picomatch reads it after a `**/`), `\` to take the next
//   character as it is. Dot files are matched like any other.
//   A directory is reserved as `src/**` (or `src/`, which is the same); `src`
//   alone is the one path `src` (coord reserve turns the name of a directory
//   of the project it runs in into `src/**`). Refused: an empty or absolute
//   pattern, `.` and `..` segments, `//`, control characters, more than 512
//   characters or 64 alternatives.
// - Two patterns overlap when some path could match both (decided on the
//   patterns themselves: a product of their automata, exact for literals,
//   `?`, `*` and `**`; a set counts as any character when it is compared with
//   another set or a wildcard, so a doubt is an overlap).
// - Two reservations conflict when they are of different machines, not both
//   shared, their patterns overlap, and their lifetimes ([at, until), `at`
//   being when each was first published) overlap.
// - Of conflicting reservations, the one the hub saw first holds, as for an
//   ANY claim: a machine publishes a new reservation only on a tip where no
//   live reservation conflicts with it (the push is a compare-and-swap; a
//   rejected push is judged again on the new tip), else it has lost and says
//   so to its agent. Should two conflicting ones still both stand in the files
//   (a hand edit, a machine whose clock judged the other one expired early),
//   the one published first (`at`, then the machine name, then the id) holds:
//   every reader decides the same. An `at` in the reader's future (a clock
//   ahead) counts as the reader's now: it was published already.
// - A reservation is live until its `until` by the reader's clock; a bad one in
//   a machine's file is that reservation's problem (reported), never the file's.
import { firstChange } from "../time/clock.js";
import { clip, MAX_COUNT } from "../limits.js";
import { hasHidden, hasLookalikeBlank, shownLine } from "../files/shown.js";
import { MACHINE_NAME } from "../files/names.js";
import { computerPath } from "../files/names.js";
import type { Problem } from "../types.js";
import { isRecord } from "../types.js";
import type { ComputerFile } from "./computer.js";

/** The longest a reservation may be made for (seconds): a week. */
export const MAX_FOR = 7 * 86_400;
/** How long a reservation holds when `--for` is not given (seconds). */
export const DEFAULT_FOR = 2 * 3600;
/** Patterns in one reservation, at most. */
export const MAX_PATTERNS = 32;
/** Characters of one pattern, at most. */
export const MAX_PATTERN_LENGTH = 512;
/** The alternatives one pattern may expand to (braces, sets), at most. */
export const MAX_ALTERNATIVES = 64;
/** Reservations one machine publishes, at most (more are reported and ignored). */
export const MAX_RESERVATIONS = 100;
/** Characters of a reason, at most. */
export const MAX_REASON = 300;

/** A reservation as a machine publishes it (the `reservations` list of its file's data). */
export interface Reservation {
  /** Unique per machine (1, 2, 3…): `<machine>/<id>` names it across the fleet. */
  id: number;
  paths: string[];
  reason?: string;
  /** Shared: it does not conflict with other shared reservations (only with exclusive ones). */
  shared?: true;
  /** When it was first published (an ISO time, the publisher's clock). */
  at: string;
  /** When it expires (an ISO time, the publisher's clock; readers compare it with theirs). */
  until: string;
}

/** A reservation with its holder's name. */
export interface FleetReservation extends Reservation {
  machine: string;
}

/** `<machine>/<id>`. */
export const reservationKey = (r: { machine: string; id: number }) => `${r.machine}/${r.id}`;

// ---------------------------------------------------------------- patterns

type Token = { k: "lit"; c: string } | { k: "any" } | { k: "star" } | { k: "set"; neg: boolean; ranges: [number, number][] };
const GLOBSTAR = "**" as const;
type Segment = Token[] | typeof GLOBSTAR;
/** One alternative of a pattern: its segments. */
type Alternative = Segment[];

/** A pattern's parse tree before braces and sets are expanded. */
type Node = { k: "tok"; t: Token } | { k: "slash" } | { k: "alt"; options: Node[][] } | { k: "set"; t: Token; text: string };

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

class PatternError extends Error {}

/** Parses `chars` from `i` until `stop` (a `,` or `}` of an enclosing brace) or the end. */
function parseSeq(chars: string[], start: number, inBrace: boolean, braces: Map<number, ReturnType<typeof parseBrace>>): { nodes: Node[]; end: number } {
  const nodes: Node[] = [];
  let i = start;
  while (i < chars.length) {
    const c = chars[i]!;
    if (inBrace && (c === "," || c === "}")) break;
    if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) throw new PatternError("it ends with a \\ (a \\ takes the next character as it is)");
      if (next === "/") throw new PatternError("\\/ is not a character of a name");
      nodes.push({ k: "tok", t: { k: "lit", c: next } });
      i += 2;
    } else if (c === "/") {
      nodes.push({ k: "slash" });
      i++;
    } else if (c === "*") {
      nodes.push({ k: "tok", t: { k: "star" } });
      i++;
    } else if (c === "?") {
      nodes.push({ k: "tok", t: { k: "any" } });
      i++;
    } else if (c === "[") {
      const set = parseSet(chars, i);
      if (set) {
        nodes.push({ k: "set", t: set.token, text: chars.slice(i, set.end).join("") });
        i = set.end;
      } else {
        nodes.push({ k: "tok", t: { k: "lit", c } }); // no closing ]: a plain [
        i++;
      }
    } else if (c === "{") {
      // Each brace is read once (a pattern of many unclosed braces would otherwise be read again and again).
      if (!braces.has(i)) braces.set(i, parseBrace(chars, i, braces));
      const brace = braces.get(i);
      if (brace) {
        nodes.push({ k: "alt", options: brace.options });
        i = brace.end;
      } else {
        nodes.push({ k: "tok", t: { k: "lit", c } }); // {a} or no closing }: plain text
        i++;
      }
    } else {
      nodes.push({ k: "tok", t: { k: "lit", c } });
      i++;
    }
  }
  return { nodes, end: i };
}

/** `{a,b,…}` at `start`: its options, or undefined when it has no comma or no closing brace (then it is plain text). */
function parseBrace(chars: string[], start: number, braces: Map<number, { options: Node[][]; end: number } | undefined>): { options: Node[][]; end: number } | undefined {
  const options: Node[][] = [];
  let i = start + 1;
  for (;;) {
    const seq = parseSeq(chars, i, true, braces);
    options.push(seq.nodes);
    i = seq.end;
    if (i >= chars.length) return undefined;
    if (chars[i] === "}") break;
    i++; // a comma
  }
  return options.length > 1 ? { options, end: i + 1 } : undefined;
}

/** `[…]` at `start`: one character of a set (`!` or `^` first negates it; `a-z` is a range), or undefined when it is not closed. */
function parseSet(chars: string[], start: number): { token: Token; end: number } | undefined {
  let i = start + 1;
  const neg = chars[i] === "!" || chars[i] === "^";
  if (neg) i++;
  const members: string[] = [];
  const first = i;
  for (; i < chars.length; i++) {
    let c = chars[i]!;
    if (c === "]" && i > first) break;
    if (c === "\\" && i + 1 < chars.length) c = chars[++i]!;
    if (c === "/") return undefined;
    members.push(c);
  }
  if (i >= chars.length) return undefined;
  const ranges: [number, number][] = [];
  for (let m = 0; m < members.length; m++) {
    const lo = members[m]!.codePointAt(0)!;
    if (members[m + 1] === "-" && m + 2 < members.length) {
      const hi = members[m + 2]!.codePointAt(0)!;
      if (hi < lo) throw new PatternError(`the range ${members[m]}-${members[m + 2]} runs backwards`);
      ranges.push([lo, hi]);
      m += 2;
    } else ranges.push([lo, lo]);
  }
  return { token: { k: "set", neg, ranges }, end: i + 1 };
}

/** Every way the nodes can be read, as flat token lists with slashes ("/" stands for a slash); at most MAX_ALTERNATIVES. */
function expand(nodes: Node[]): (Token | "/")[][] {
  let out: (Token | "/")[][] = [[]];
  const times = (tails: (Token | "/")[][]) => {
    const next: (Token | "/")[][] = [];
    for (const head of out) for (const tail of tails) next.push([...head, ...tail]);
    if (next.length > MAX_ALTERNATIVES) throw new PatternError(`it stands for more than ${MAX_ALTERNATIVES} patterns (braces and [sets]); write fewer`);
    out = next;
  };
  for (const n of nodes) {
    if (n.k === "tok") for (const o of out) o.push(n.t);
    else if (n.k === "slash") for (const o of out) o.push("/");
    // A set also matches its own text: `app/[id]/page.tsx` is a file as well as a pattern.
    else if (n.k === "set") times([[n.t], Array.from(n.text, (c): Token => ({ k: "lit", c }))]);
    else times(n.options.flatMap((o) => expand(o)));
  }
  return out;
}

/** The segments of one expanded alternative: `**` (or more stars) alone in a segment is any number of directories; `a**b` is `a*b`. */
function segmentsOf(flat: (Token | "/")[]): Alternative {
  const segments: Alternative = [];
  let current: Token[] = [];
  const close = () => {
    if (current.length === 0) throw new PatternError("it has an empty segment (// or a / at an end)");
    const literal = current.every((t) => t.k === "lit") ? current.map((t) => (t as { c: string }).c).join("") : undefined;
    if (literal === "." || literal === "..") throw new PatternError(`it has a ${literal} segment; write the path from the project's root without . or ..`);
    if (current.length >= 2 && current.every((t) => t.k === "star")) segments.push(GLOBSTAR);
    else segments.push(current.filter((t, i) => !(t.k === "star" && current[i - 1]?.k === "star")));
    current = [];
  };
  for (const t of flat) {
    if (t === "/") close();
    else current.push(t);
  }
  close();
  return segments;
}

/** A pattern as given, tidied: `./` in front taken off, and a `/` at the end made `/**` (`src/` is the directory: `src/**`). */
export function normalizePattern(text: string): string {
  let p = text.trim();
  while (p.startsWith("./")) p = p.slice(2).replace(/^\/+/, "");
  if (p.endsWith("/") && p.replace(/\/+$/, "") !== "") p = `${p.replace(/\/+$/, "")}/**`;
  return p;
}

const compiled = new Map<string, Alternative[] | string>();

/** A pattern's alternatives, or why it is refused (one sentence's end: "it …"). Kept (bounded): the same patterns are asked about again and again. */
function compile(pattern: string): Alternative[] | string {
  const known = compiled.get(pattern);
  if (known !== undefined) return known;
  let result: Alternative[] | string;
  try {
    if (pattern === "") throw new PatternError("it is empty");
    if (pattern.length > MAX_PATTERN_LENGTH) throw new PatternError(`it is longer than ${MAX_PATTERN_LENGTH} characters`);
    // A path a person is shown as it is (a reservation, the pre-commit hook's warning): nothing in it they could not see.
    if (CONTROL.test(pattern)) throw new PatternError("it holds a control character");
    if (hasHidden(pattern)) throw new PatternError("it holds a character a person cannot see (a bidi control, a zero-width one, a line separator)");
    if (hasLookalikeBlank(pattern)) throw new PatternError("it holds a blank that is not a space but looks like one (a no-break or typographic space, U+2800)");
    if (pattern.startsWith("/") || /^[A-Za-z]:[\\/]/.test(pattern) || /^~(\/|$)/.test(pattern))
      throw new PatternError("it is absolute; write it relative to the project's root, like src/**");
    const chars = Array.from(pattern);
    const seq = parseSeq(chars, 0, false, new Map());
    result = expand(seq.nodes).map(segmentsOf);
  } catch (e) {
    if (!(e instanceof PatternError)) throw e;
    result = e.message;
  }
  if (compiled.size >= 4096) compiled.clear();
  compiled.set(pattern, result);
  return result;
}

/** Why `pattern` (as normalizePattern leaves it) is refused, or undefined when it is a valid pattern. */
export function patternProblem(pattern: string): string | undefined {
  const r = compile(pattern);
  return typeof r === "string" ? r : undefined;
}

/** Whether two single characters' tokens can be the same character (a set against a set or a wildcard: yes, unless two plain sets are disjoint). */
function symbolsMeet(a: Token, b: Token): boolean {
  if (a.k === "star" || a.k === "any" || b.k === "star" || b.k === "any") return true;
  if (a.k === "lit" && b.k === "lit") return a.c === b.c;
  if (a.k === "lit" || b.k === "lit") {
    const [lit, set] = (a.k === "lit" ? [a, b] : [b, a]) as [{ c: string }, { neg: boolean; ranges: [number, number][] }];
    const cp = lit.c.codePointAt(0)!;
    return set.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) !== set.neg;
  }
  const [x, y] = [a, b] as { neg: boolean; ranges: [number, number][] }[];
  if (x!.neg || y!.neg) return true; // a doubt is an overlap
  return x!.ranges.some(([lo, hi]) => y!.ranges.some(([lo2, hi2]) => lo <= hi2 && lo2 <= hi));
}

/**
 * Whether some sequence matches both lists: a walk of the product of the two
 * automata, from the start to both ends, where a looping element (a star in a
 * segment, `**` among segments) matches any number of symbols, none included.
 */
function bothMatch<T>(a: readonly T[], b: readonly T[], loops: (x: T) => boolean, meet: (x: T, y: T) => boolean): boolean {
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const visit = (i: number, j: number) => {
    const key = i * width + j;
    if (!seen[key]) {
      seen[key] = 1;
      stack.push(key);
    }
  };
  while (stack.length) {
    const key = stack.pop()!;
    const i = Math.floor(key / width);
    const j = key % width;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    if (x !== undefined && loops(x)) visit(i + 1, j);
    if (y !== undefined && loops(y)) visit(i, j + 1);
    if (x !== undefined && y !== undefined && meet(x, y)) visit(loops(x) ? i : i + 1, loops(y) ? j : j + 1);
  }
  return false;
}

/** Whether some string matches both token lists (a star loops on any character). */
const tokensMeet = (a: Token[], b: Token[]): boolean => bothMatch(a, b, (t) => t.k === "star", symbolsMeet);

/** Whether some path matches both alternatives: the same walk, a segment at a time (`**` loops on any segment). */
const alternativesMeet = (a: Alternative, b: Alternative): boolean =>
  bothMatch<Segment>(
    a,
    b,
    (s) => s === GLOBSTAR,
    (x, y) => x === GLOBSTAR || y === GLOBSTAR || tokensMeet(x, y),
  );

/** Whether some path could match both patterns; an invalid pattern overlaps nothing. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = compile(a);
  const y = compile(b);
  if (typeof x === "string" || typeof y === "string") return false;
  return x.some((p) => y.some((q) => alternativesMeet(p, q)));
}

/** Whether `path` (a file's path in the project, as git gives it) is matched by `pattern`. */
export function pathMatches(path: string, pattern: string): boolean {
  const alternatives = compile(pattern);
  if (typeof alternatives === "string") return false;
  const segments = path.split("/").filter((s) => s !== "");
  if (segments.length === 0) return false;
  const literal: Alternative = segments.map((s) => Array.from(s, (c): Token => ({ k: "lit", c })));
  return alternatives.some((p) => alternativesMeet(p, literal));
}

// ---------------------------------------------------------------- reservations

/** Why a reservation's own fields are refused, or undefined. */
export function reservationProblem(r: { paths: string[]; reason?: string }): string | undefined {
  if (r.paths.length === 0) return "it reserves no path";
  if (r.paths.length > MAX_PATTERNS) return `it reserves more than ${MAX_PATTERNS} patterns`;
  for (const p of r.paths) {
    const bad = patternProblem(p);
    if (bad) return `the pattern ${JSON.stringify(clip(p, 80))} is refused: ${bad}`;
  }
  if (r.reason !== undefined && r.reason.length > MAX_REASON) return `its reason is longer than ${MAX_REASON} characters`;
  return undefined;
}

/**
 * A reason as published and shown: one line, every character a person could not see (a control, a bidi override, a
 * zero-width one) written as its \u escape, the one rule of core/files/shown.ts; bounded.
 */
export function cleanReason(reason: string): string {
  return clip(shownLine(reason).trim(), MAX_REASON);
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** One published entry read, or why it is refused; `lastSeen`: its file's (a renewal is published with a new one). */
function readEntry(raw: unknown, lastSeen: string): Reservation | string {
  if (!isRecord(raw)) return "it is not an object";
  const { id, paths, reason, shared, at, until } = raw;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > MAX_COUNT) return "its id is not a whole number from 1";
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== "string")) return `reservation ${id}: its paths are not a list of text`;
  if (reason !== undefined && typeof reason !== "string") return `reservation ${id}: its reason is not text`;
  if (shared !== undefined && shared !== true) return `reservation ${id}: shared is not true`;
  if (typeof at !== "string" || !ISO.test(at) || !Number.isFinite(Date.parse(at))) return `reservation ${id}: at is not an ISO time`;
  if (typeof until !== "string" || !ISO.test(until) || !Number.isFinite(Date.parse(until))) return `reservation ${id}: until is not an ISO time`;
  if (!(Date.parse(until) > Date.parse(at))) return `reservation ${id}: until is not after at`;
  // Made (or renewed) for at most MAX_FOR: counted from when it was published, or renewed (its file's lastSeen then).
  const from = Math.max(Date.parse(at), Date.parse(lastSeen) || 0);
  if (Date.parse(until) - from > MAX_FOR * 1000 + 60_000) return `reservation ${id}: it is made for more than ${MAX_FOR / 86_400} days`;
  const r: Reservation = { id, paths: paths as string[], ...(reason !== undefined ? { reason: reason as string } : {}), ...(shared ? { shared: true } : {}), at, until };
  const bad = reservationProblem(r);
  if (bad) return `reservation ${id}: ${bad}`;
  // The reason is another machine's text, shown in terminals and the hook's output: no control characters reach them.
  if (r.reason !== undefined) r.reason = cleanReason(r.reason);
  return r;
}

/**
 * Every machine's published reservations, each read on its own: a bad entry
 * is reported (STATUS errors) and left out, the rest of the file stands.
 */
export function readReservations(computers: ReadonlyMap<string, ComputerFile>): { reservations: FleetReservation[]; problems: Problem[] } {
  const reservations: FleetReservation[] = [];
  const problems: Problem[] = [];
  for (const name of [...computers.keys()].sort()) {
    const { reservations: raw, lastSeen } = computers.get(name)!;
    if (raw === undefined) continue;
    const file = computerPath(name);
    if (!MACHINE_NAME.test(name)) continue;
    if (!Array.isArray(raw)) {
      problems.push({ file, path: "reservations", message: "ignored: reservations is not a list; its machine rewrites it at its next sync" });
      continue;
    }
    const ids = new Set<number>();
    raw.forEach((entry, i) => {
      if (i >= MAX_RESERVATIONS) {
        if (i === MAX_RESERVATIONS) problems.push({ file, path: "reservations", message: `ignored: reservations past the first ${MAX_RESERVATIONS}` });
        return;
      }
      const r = readEntry(entry, lastSeen);
      if (typeof r === "string") problems.push({ file, path: `reservations[${i}]`, message: `ignored: ${r}` });
      else if (ids.has(r.id)) problems.push({ file, path: `reservations[${i}]`, message: `ignored: reservation ${r.id} is listed twice` });
      else {
        ids.add(r.id);
        reservations.push({ machine: name, ...r });
      }
    });
  }
  return { reservations, problems };
}

/** Whether a reservation is live at `now` (the reader's clock). */
export function isLive(r: { until: string }, now: Date): boolean {
  return Date.parse(r.until) > now.getTime();
}

/** When isLive's answer next changes after `now` (ms): its `until`, when it is live; undefined when it is not (it never comes back). Its deadline. */
export function liveUntil(r: { until: string }, now: Date): number | undefined {
  return firstChange([Date.parse(r.until)], now, (at) => isLive(r, at));
}

/** Whether two reservations of one fleet cannot both hold: other machines, not both shared, patterns and lifetimes overlapping. */
export function conflicts(a: FleetReservation, b: FleetReservation): boolean {
  if (a.machine === b.machine || (a.shared && b.shared)) return false;
  if (!(Date.parse(a.at) < Date.parse(b.until) && Date.parse(b.at) < Date.parse(a.until))) return false;
  return a.paths.some((p) => b.paths.some((q) => patternsOverlap(p, q)));
}

/** The hub's order as the files tell it: published first (`at`), then the machine's name, then the id. */
export function hubOrder(a: FleetReservation, b: FleetReservation): number {
  return Date.parse(a.at) - Date.parse(b.at) || (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0) || a.id - b.id;
}

export type Standing = { held: true } | { held: false; lostTo: FleetReservation };

/**
 * Who holds what at `now`: the live `published` reservations in the hub's
 * order, then `pending` ones (not published yet: they come after everything
 * on the tip) in their order. Each holds unless it conflicts with one that
 * holds before it. Expired ones are left out. A published `at` in the reader's
 * future (its machine's clock runs ahead) counts as now: it was published
 * already. Keyed by reservationKey.
 */
export function standings(published: FleetReservation[], now: Date, pending: FleetReservation[] = []): Map<string, Standing> {
  const clamp = (r: FleetReservation) => (Date.parse(r.at) > now.getTime() ? { ...r, at: now.toISOString() } : r);
  const order = [
    ...published
      .filter((r) => isLive(r, now))
      .map((r) => ({ r, as: clamp(r) }))
      .sort((a, b) => hubOrder(a.as, b.as)),
    ...pending.filter((r) => isLive(r, now)).map((r) => ({ r, as: r })),
  ];
  const held: typeof order = [];
  const out = new Map<string, Standing>();
  for (const x of order) {
    const winner = held.find((h) => conflicts(h.as, x.as));
    if (winner) out.set(reservationKey(x.r), { held: false, lostTo: winner.r });
    else {
      held.push(x);
      out.set(reservationKey(x.r), { held: true });
    }
  }
  return out;
}

/** The reservations that hold at `now`, in the hub's order. */
export function heldAt(published: FleetReservation[], now: Date): FleetReservation[] {
  const s = standings(published, now);
  return published.filter((r) => s.get(reservationKey(r))?.held === true).sort(hubOrder);
}

/** Of `held` reservations, those of other machines than `me` that cover `path` (exclusive first). */
export function holdersOf(path: string, held: FleetReservation[], me: string): FleetReservation[] {
  return held.filter((r) => r.machine !== me && r.paths.some((p) => pathMatches(path, p))).sort((a, b) => Number(!!a.shared) - Number(!!b.shared));
}

/** How a reservation is said in one line: "alpha holds src/** until 2026-11-22 14:03 UTC (refactor auth)". */
export function describeHolder(r: FleetReservation, utc: (iso: string) => string): string {
  return `${r.machine} holds ${r.paths.join(", ")}${r.shared ? " (shared)" : ""} until ${utc(r.until)}${r.reason ? ` (${r.reason})` : ""}`;
}

// ---------------------------------------------------------------- this machine's own

/** A reservation as this machine keeps it (`.git/coord/reservations.json`): made at once, published by the next sync. */
export interface LocalReservation {
  id: number;
  paths: string[];
  reason?: string;
  shared?: true;
  /** When it was made (this machine's clock). */
  made: string;
  until: string;
  /** When it was first published: its `at` in the machine's file. Absent while it waits for a sync. */
  at?: string;
  /** It lost: the reservation that holds instead, and when this machine learned it. */
  lost?: { machine: string; id: number; paths: string[]; reason?: string; shared?: true; until: string; learned: string };
}

export type OwnState = "pending" | "held" | "lost" | "expired";

/** Where one of this machine's reservations stands as its local state says (a sync decides held or lost). */
export function ownState(r: LocalReservation, now: Date): OwnState {
  if (r.lost) return "lost";
  if (!isLive(r, now)) return "expired";
  return r.at ? "held" : "pending";
}

/** How long an expired or lost reservation stays in the local state (to be shown) past its own `until`. */
export const KEEP_ENDED_MS = 86_400_000;

export interface Settled {
  /** The local reservations after this look at the tip: lost ones marked, a published one's `at` taken from the tip, ended ones pruned. */
  local: LocalReservation[];
  /** What this machine's file says now: its live reservations that hold (pending ones with `at` = now), by id. */
  publish: Reservation[];
  /** The ones found lost in this look (each is told once). */
  lost: LocalReservation[];
  /** Ids of pending reservations that go out with `at` = now: once the push lands they are held. */
  publishing: number[];
}

/**
 * This machine's reservations judged on a tip (`fleet`: every machine's
 * published reservations there, this one's included): those published hold
 * or lose by the hub's order; pending ones come after everything on the tip,
 * so one that conflicts with a live reservation there lost (the hub saw that
 * one first). A reservation once lost stays lost (reserve again).
 */
export function settle(local: LocalReservation[], me: string, fleet: FleetReservation[], now: Date): Settled {
  const onTip = new Map(fleet.filter((r) => r.machine === me).map((r) => [r.id, r]));
  const kept = local.filter((r) => Date.parse(r.until) + KEEP_ENDED_MS > now.getTime());
  const published: FleetReservation[] = [];
  const pending: FleetReservation[] = [];
  const next = kept.map((r) => {
    if (r.lost || !isLive(r, now)) return r;
    const onHub = onTip.get(r.id);
    // Renewed after the copy the hub has ran out (or the hub no longer has it): others may have reserved the paths
    // meanwhile, so it is judged again as a new reservation, not by the time it was first published.
    if (r.at && (!onHub || Date.parse(onHub.until) <= now.getTime())) {
      const { at: _lapsed, ...fresh } = r;
      pending.push({ machine: me, ...publishedForm(fresh), at: now.toISOString() });
      return fresh;
    }
    const at = r.at ?? onHub?.at; // published by a sync that stopped before it wrote so
    const candidate: FleetReservation = { machine: me, ...publishedForm(r), at: at ?? now.toISOString() };
    (at ? published : pending).push(candidate);
    return at && !r.at ? { ...r, at } : r;
  });
  const standing = standings([...fleet.filter((r) => r.machine !== me), ...published], now, pending);
  const lost: LocalReservation[] = [];
  const publish: Reservation[] = [];
  const out = next.map((r) => {
    const s = standing.get(reservationKey({ machine: me, id: r.id }));
    if (!s || r.lost) return r;
    if (!s.held) {
      const w = s.lostTo;
      const marked: LocalReservation = {
        ...r,
        lost: {
          machine: w.machine,
          id: w.id,
          paths: w.paths,
          ...(w.reason ? { reason: w.reason } : {}),
          ...(w.shared ? { shared: true } : {}),
          until: w.until,
          learned: now.toISOString(),
        },
      };
      lost.push(marked);
      return marked;
    }
    const c = [...published, ...pending].find((x) => x.id === r.id)!;
    const { machine: _m, ...form } = c;
    publish.push(form);
    return r;
  });
  publish.sort((a, b) => a.id - b.id);
  return { local: out, publish, lost, publishing: pending.filter((p) => publish.some((x) => x.id === p.id)).map((p) => p.id) };
}

/** The published fields of a local reservation, in the order they are written (`at` is the caller's). */
function publishedForm(r: LocalReservation): Omit<Reservation, "at"> & { at: string } {
  return { id: r.id, paths: r.paths, ...(r.reason ? { reason: r.reason } : {}), ...(r.shared ? { shared: true } : {}), at: r.at ?? "", until: r.until };
}

/** One sentence for the agent whose reservation (of machine `me`) lost. */
export function lostSentence(me: string, r: Pick<LocalReservation, "id" | "paths" | "lost">, utc: (iso: string) => string): string {
  const w = r.lost!;
  return (
    `reservation ${me}/${r.id} (${r.paths.join(", ")}) lost: ${w.machine} holds ${w.paths.join(", ")}${w.shared ? " (shared)" : ""} until ${utc(w.until)}` +
    `${w.reason ? ` (${w.reason})` : ""}, reserved before this one reached the hub; leave those paths alone, or reserve again once it is released or expired`
  );
}
