// bench/results.md from a partial run (`node scripts/bench.mjs --only=… --write`): the rows it measured replace those
// of the same number in the file the last whole run wrote (or are put in their place by number), each marked in its
// note as measured by that partial run, and the head says which rows came from which partial run; every other row
// stays as the whole run measured it. The file stays generated: nothing in it is written by hand.

/** The table's rows ("| n | …") and the notes ("- n: …") of results.md, with where they are. */
const ROW = /^\| ([^|]+?) \| /;
const NOTE = /^- ([^:\s]+): /;
const PARTIAL = /^Partial run /;

/** "4a" → [4, "a"]; "13a–b" → [13, "a–b"]: rows sort by number, then by letter. */
const key = (n) => {
  const m = /^(\d+)(.*)$/.exec(n);
  return m ? [Number(m[1]), m[2]] : [Number.POSITIVE_INFINITY, n];
};
const before = (a, b) => {
  const [x, s] = key(a);
  const [y, t] = key(b);
  return x !== y ? x < y : s < t;
};

/** Replaces or inserts (in number order) `fresh` (n → line) among the lines matching `pattern` in `lines[from, to)`. */
function merge(lines, pattern, fresh) {
  const out = [...lines];
  for (const [n, line] of fresh) {
    const at = out.findIndex((l) => pattern.exec(l)?.[1] === n);
    if (at >= 0) {
      out[at] = line;
      continue;
    }
    // After the last line of its kind whose number comes before it; else before the first of its kind.
    const kind = out.map((l, i) => [pattern.exec(l)?.[1], i]).filter(([k]) => k !== undefined && k !== "#" && !/^-+$/.test(k));
    const after = kind.filter(([k]) => before(k, n)).at(-1);
    const index = after ? after[1] + 1 : (kind[0]?.[1] ?? out.length);
    out.splice(index, 0, line);
  }
  return out;
}

/**
 * The text of results.md with the rows of a partial run in it. `existing`: the file as it is (a whole run's, perhaps
 * with partial runs in it already); `rows`: the run's rows ({n, line, note}: the table's line, the note's line);
 * `stamp`: what the head says of the run (its date, coord's commit, the machine's load). A row re-measured by an
 * earlier partial run is taken out of that run's line in the head.
 */
export function withPartialRun(existing, rows, stamp) {
  const mark = `partial run ${stamp.date}`;
  const table = new Map(rows.map((r) => [r.n, r.line]));
  const notes = new Map(rows.map((r) => [r.n, `- ${r.n}: (${mark}) ${r.note}`]));
  let lines = existing.split("\n");
  lines = merge(lines, ROW, table);
  lines = merge(lines, NOTE, notes);
  // The head: the whole run's line, then one line per partial run, naming its rows.
  const names = rows.map((r) => r.n);
  const kept = [];
  for (const l of lines) {
    if (!PARTIAL.test(l)) {
      kept.push(l);
      continue;
    }
    const m = /^(Partial run .*? UTC: rows )([^;]+)(;.*)$/.exec(l);
    if (!m) {
      if (kept.at(-1) === "") kept.pop();
      continue;
    }
    const left = m[2].split(", ").filter((n) => !names.includes(n));
    if (left.length) kept.push(`${m[1]}${left.join(", ")}${m[3]}`);
    else if (kept.at(-1) === "") kept.pop(); // its blank line goes with it
  }
  const line = `Partial run ${stamp.date}: rows ${names.join(", ")}; ${stamp.text} (\`node scripts/bench.mjs --only=${stamp.only} --write\`: these rows replace the whole run's, the others are as it measured them)`;
  // After the whole run's line (the first that starts with a date), and after the partial lines before this one.
  const head = kept.findIndex((l) => /^\d{4}-\d\d-\d\d /.test(l));
  if (head < 0) throw new Error("bench/results.md has no line of its whole run (a date at its start): run the whole bench once (npm run bench)");
  let at = head + 1;
  while (kept[at] === "" && PARTIAL.test(kept[at + 1] ?? "")) at += 2;
  kept.splice(at, 0, "", line);
  return kept.join("\n");
}
