import type { Command } from "commander";
import { publishedText } from "../../sync/result.js";
import { check, type OwnReservation, release, reservations, reserve } from "../../actions/reservations.js";
import { installHook, OVERRIDE, uninstallHook } from "../../commands/reserve-hook.js";
import { plural } from "../../core/limits.js";
import { utcText } from "../../core/fleet/presence.js";
import { describeHolder, type FleetReservation, lostSentence } from "../../core/fleet/reservations.js";
import { textTable, until } from "../../core/status/terminal.js";
import { CoordError, EXIT } from "../../errors.js";
import type { SyncResult } from "../../sync/sync.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

/** "2026-11-22 14:03 UTC (in 2 h)", or "(ended)" once past. */
const when = (iso: string, now: Date) => `${utcText(iso)} (${Date.parse(iso) > now.getTime() ? until(iso, now) : "ended"})`;

const published = (r: SyncResult | undefined, machine: string) =>
  r === undefined
    ? ""
    : r.skipped
      ? "; a sync is running in this checkout: it publishes it"
      : r.pushed || r.deferred
        ? `; ${publishedText(r)}`
        : `; ${machine}'s file already says so`;

const holder = (r: FleetReservation) => describeHolder(r, utcText);

/** The line of one of this machine's reservations, and what happened to it. */
function ownLines(r: OwnReservation, now: Date): string[] {
  const lines = [`${r.key}: ${r.paths.join(" ")}${r.shared ? " (shared)" : ""} ${r.state}, until ${when(r.until, now)}${r.reason ? ` — ${r.reason}` : ""}`];
  if (r.lost)
    lines.push(
      `  lost to ${r.lost.machine}/${r.lost.id}: ${r.lost.machine} holds ${r.lost.paths.join(", ")} until ${utcText(r.lost.until)}${r.lost.reason ? ` (${r.lost.reason})` : ""}` +
        (r.lost.live ? "" : "; that reservation has ended as of the last fetch: reserve again to take them"),
    );
  return lines;
}

const RESERVE_HELP = `
A reservation is stored at once and published by the next sync (or --now), which decides it: held, or lost to
an overlapping reservation of another machine that reached the hub first (then it says who holds the paths and
until when). Patterns are relative to the project's root: src/a.ts, src/** (a directory), docs/*.md,
src/{a,b}.ts; the name of a directory of the project coord runs in is reserved as <name>/**.

  coord reserve hook install [--enforce] [--repo <project>]   a git pre-commit hook in the project that warns of
                                                               (--enforce: refuses) a commit touching paths another
                                                               machine holds; ${OVERRIDE}=off (or warn) overrides it
  coord reserve hook uninstall [--repo <project>]             removes exactly that hook

Exit codes: 0 reserved (pending or held), 4 lost (another machine holds the paths), 2 bad usage, 1 another failure.`;

/** reserve, release and reservations: path reservations, so that two agents never edit the same files unknowingly. */
export function registerReservations(program: Command, io: Io): void {
  program
    .command("reserve [paths...]")
    .description("reserve paths (globs) for this machine's agent for a while, so that no other machine edits them; `reserve hook install` adds the pre-commit hook to a project")
    .addOption(dirOption())
    .option("--for <duration>", "how long it holds: 90m, 2h, 1d (at most 7d)", "2h")
    .option("--reason <text>", "what the agent is doing, shown to the others")
    .option("--shared", "others may reserve the same paths shared too (not exclusively)")
    .option("--now", "publish at once (a sync that starts no task): the answer is held or lost, not pending")
    .option("--json", "print the reservation as JSON")
    .option("--enforce", "hook install: refuse the commit instead of warning")
    .option("--repo <dir>", "hook install/uninstall: the project repository (default: the current directory)")
    .addHelpText(
      "after",
      RESERVE_HELP +
        "\n" +
        examples(
          'coord reserve "src/auth/**" --for 2h --reason "rewriting the login flow" --now',
          "coord reserve src/a.ts src/b.ts --for 45m",
          'coord reserve "docs/**" --shared',
          'coord reserve "src/auth/**" --for 4h   # the same paths again: renews it',
          "coord reserve hook install --enforce --repo ~/code/webapp",
          "coord reserve hook uninstall --repo ~/code/webapp",
        ),
    )
    .action(async (paths: string[], o: { dir?: string; for: string; reason?: string; shared?: boolean; now?: boolean; json?: boolean; enforce?: boolean; repo?: string }) => {
      const dir = await resolveDir(o.dir);
      if (paths[0] === "hook" && (paths[1] === "install" || paths[1] === "uninstall") && paths.length === 2) {
        const r =
          paths[1] === "install" ? await installHook({ dir, ...(o.repo ? { repo: o.repo } : {}), enforce: !!o.enforce }) : await uninstallHook(o.repo ? { repo: o.repo } : {});
        if (o.json) return io.out(JSON.stringify(r, null, 2));
        const mode = r.enforce ? "refuses" : "warns of";
        io.out(
          r.action === "absent"
            ? `${r.path}: no pre-commit hook, nothing to remove`
            : r.action === "removed"
              ? `${r.path}: coord's pre-commit hook removed`
              : `${r.path}: ${r.action}; it ${mode} a commit that touches paths another machine reserved (${OVERRIDE}=off git commit … skips it once)`,
        );
        for (const n of r.notes) io.err(`note: ${n}`);
        return;
      }
      if (o.enforce || o.repo) throw new CoordError("--enforce and --repo are for coord reserve hook install|uninstall", EXIT.USAGE);
      const r = await reserve({ dir, paths, for: o.for, ...(o.reason !== undefined ? { reason: o.reason } : {}), shared: !!o.shared, now: !!o.now, project: process.cwd() });
      const res = r.reservation;
      if (res.state === "lost") process.exitCode = EXIT.RESERVED;
      if (o.json) return io.out(JSON.stringify(r, null, 2));
      for (const n of r.notes) io.err(`note: ${n}`);
      const now = new Date();
      if (res.state === "lost") {
        io.out(lostSentence(r.machine, res, utcText));
        return;
      }
      const what = `${r.renewed ? "renewed" : "reserved"} ${res.key}: ${res.paths.join(" ")}${res.shared ? " (shared)" : ""} until ${when(res.until, now)}`;
      io.out(
        res.state === "held"
          ? `${what}; it holds${published(r.published, r.machine)}`
          : `${what}; it goes out with the next sync, which says whether it holds (or: coord reserve … --now)${published(r.published, r.machine)}`,
      );
      for (const c of r.conflicts) io.err(`warning: ${holder(c)}, as of the last fetch: this reservation loses unless that one ends before it reaches the hub`);
    });

  program
    .command("release [reservations...]")
    .description("end this machine's reservations (ids, or the paths as reserved); gone from its file at the next sync (or --now)")
    .addOption(dirOption())
    .option("--all", "every reservation of this machine")
    .option("--now", "publish at once (a sync that starts no task)")
    .option("--json", "print what was released as JSON")
    .addHelpText("after", examples("coord release 3", 'coord release "src/auth/**" --now', "coord release --all"))
    .action(async (targets: string[], o: { dir?: string; all?: boolean; now?: boolean; json?: boolean }) => {
      const r = await release({ dir: await resolveDir(o.dir), targets, all: !!o.all, now: !!o.now });
      if (o.json) return io.out(JSON.stringify(r, null, 2));
      if (r.released.length === 0) return io.out("this machine has no reservation");
      const end = r.published ? published(r.published, r.machine) : `; gone from ${r.machine}'s file at the next sync`;
      io.out(`released ${r.released.map((x) => `${x.key} (${x.paths.join(" ")})`).join(", ")}${end}`);
    });

  program
    .command("reservations [action] [paths...]")
    .description("this machine's reservations and the fleet's live ones, from the last fetch (no network); `reservations check` says whether paths are reserved by another machine")
    .addOption(dirOption())
    .option("--all", "also this machine's expired reservations, and the reservations coord refused in machines' files")
    .option("--json", "print as JSON")
    .option("--staged", "check: the paths of the changes staged for the next commit in the project (--repo, or the current directory)")
    .option("--repo <dir>", "check --staged: the project repository (default: the current directory)")
    .option("--hook", "check: as the pre-commit hook says it (on stderr, nothing when no path is reserved)")
    .addHelpText(
      "after",
      `
Exit codes of check: 0 no path is reserved by another machine (shared ones are only said), 4 one is, 2 bad usage,
1 another failure. The pre-commit hook (coord reserve hook install) runs check --staged --hook.
` +
        examples(
          "coord reservations",
          "coord reservations --json",
          "coord reservations check src/auth/login.ts",
          "coord reservations check --staged --repo ~/code/webapp",
          "coord reservations --all",
        ),
    )
    .action(async (action: string | undefined, paths: string[], o: { dir?: string; all?: boolean; json?: boolean; staged?: boolean; repo?: string; hook?: boolean }) => {
      const dir = await resolveDir(o.dir);
      const now = new Date();
      if (action === "check") {
        if (!o.staged && paths.length === 0) throw new CoordError("name the paths to check, or pass --staged for the changes staged in the project", EXIT.USAGE);
        const r = await check({ dir, paths, staged: !!o.staged, ...(o.repo ? { repo: o.repo } : {}) });
        if (r.held.length) process.exitCode = EXIT.RESERVED;
        if (o.json) return io.out(JSON.stringify(r, null, 2));
        const say = o.hook ? io.err : io.out;
        if (o.hook && (r.held.length || r.shared.length))
          say(`coord: this commit touches paths ${r.held.length ? "another machine reserved" : "another machine edits too"} (as of the last fetch):`);
        for (const h of r.held) say(`${o.hook ? "  " : ""}${h.path}: ${h.holders.map(holder).join("; ")}`);
        for (const h of r.shared) say(`${o.hook ? "  " : ""}${h.path}: ${h.holders.map(holder).join("; ")}: it edits them too`);
        if (!o.hook && !r.held.length && !r.shared.length) io.out(`not reserved by another machine (as of the last fetch): ${plural(r.checked.length, "path")} checked`);
        if (!r.commit) io.err(`warning: ${r.machine} has never fetched the fleet: nothing is known of other machines' reservations (coord sync)`);
        return;
      }
      if (action !== undefined) throw new CoordError(`unknown reservations action "${action}"; the only one is check`, EXIT.USAGE);
      const r = await reservations({ dir, all: !!o.all });
      if (o.json) return io.out(JSON.stringify(r, null, 2));
      io.out(`${r.machine} (this machine):`);
      if (r.own.length === 0) io.out("  no reservation (coord reserve <paths> --reason …)");
      for (const x of r.own) for (const line of ownLines(x, now)) io.out(`  ${line}`);
      io.out(`\nother machines (as of the last fetch${r.commit ? `, ${r.commit.slice(0, 12)}` : ": none yet, run coord sync"}):`);
      if (r.fleet.length === 0) io.out("  no live reservation");
      else
        for (const line of textTable(
          ["RESERVATION", "PATHS", "UNTIL", "REASON"],
          r.fleet.map((f) => [`${f.machine}/${f.id}${f.shared ? " (shared)" : ""}`, f.paths.join(" "), when(f.until, now), f.reason ?? ""]),
        ).split("\n"))
          io.out(`  ${line}`);
      for (const p of r.problems) io.err(`${p.file}${p.path ? ` ${p.path}` : ""}: ${p.message}`);
    });
}
