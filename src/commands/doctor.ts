// coord doctor: is this machine ready to sync unattended? Each check is one
// line, with the fix when it is not OK. Each says what it proved: the fetch
// reads both branches (it only moves the tracking refs); the push is a real
// one, of a ref of this machine's own (refs/coord-doctor/<machine>, at the
// commit coord is at: nothing is sent), deleted at once; whether the hub
// takes this machine's pushes to coord itself is what its last syncs say
// (.git/coord/health.json).
import { onPath } from "../platform/executables.js";
import { verifiedVerdict } from "../core/trust/github.js";
import { AGENTS, unattendedLogin } from "../core/agents/agents.js";
import { loggedOutCapability } from "../core/status/status.js";
import { loginStore } from "../state/secrets.js";
import { agentSandbox } from "../sync/sandbox.js";
import { readShareAt } from "../sync/view.js";
import { keyFingerprint } from "../core/trust/trust.js";
import { commitOf, MACHINES_BRANCH, splitTip } from "../git/hub.js";
import { access, stat } from "node:fs/promises";
import { environOf } from "../platform/processes.js";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import lockfile from "proper-lockfile";
import { parseComputer } from "../core/fleet/computer.js";
import { computerPath } from "../core/files/names.js";
import { redact } from "../core/trust/redact.js";
import { gitFailureText } from "../core/hub/ssh.js";
import { firstLine, isTimeout, machineAuthor, type RecentCommit, Repo } from "../git/git.js";
import { gitVersion as gitVersionText } from "../git/local.js";
import { AGENT_CLIS, type AgentFound, findAgents } from "../state/capabilities.js";
import { loadOnCall, type OnCallState, onCallStatePath, readOnCallState } from "../state/on-call.js";
import { setAsideNotice } from "../core/oncall/salvage.js";
import { describeFailure } from "../failure.js";
import { type Health, readHealth, STALL_AFTER } from "../state/health.js";
import { gitDirOf } from "../state/paths.js";
import { openMachine, type GitMachine } from "../sync/sync.js";
import { daemonStatus } from "../daemon/daemon.js";
import { allowedDir } from "../sync/tasks.js";
import { scheduleStatus } from "../actions/schedule.js";
import { channelChecks } from "../actions/doctor-channels.js";
import { daemonServiceStatus, type ServiceStatus } from "../actions/daemon-service.js";
import { timings } from "../timings.js";
import { budgetsFor } from "../sync/machine.js";
import { identityAt, lastFetchedModel, lastPublished } from "../sync/trust.js";
import { readRoster } from "../state/trust.js";
import { sanitizeDeep } from "../core/files/shown.js";
import { READ_PATHS } from "../sync/sync.js";
import { describeBudgets, describeReadShare, HOST_DEFAULTS_TEXT, readShareOf } from "../core/hub/reads.js";

import type { Check } from "../core/setup/doctor-check.js";
export type { Check, CheckLevel } from "../core/setup/doctor-check.js";

export interface DoctorOptions {
  dir: string;
  now?: Date;
  /** Where PATH (crontab, agent CLIs) and XDG_CONFIG_HOME come from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Below this git fails the check; below WARN_GIT it warns. */
export const MIN_GIT: [number, number] = [2, 25];
export const WARN_GIT: [number, number] = [2, 30];
/** A commit of another machine dated more than this in the future means a clock is off. */
export const MAX_SKEW_SECONDS = 120;

const ok = (name: string, detail: string): Check => ({ name, level: "OK", detail });
const warn = (name: string, detail: string, fix?: string): Check => ({ name, level: "WARN", detail, ...(fix ? { fix } : {}) });
const fail = (name: string, detail: string, fix?: string): Check => ({ name, level: "FAIL", detail, ...(fix ? { fix } : {}) });

export async function doctor(opts: DoctorOptions): Promise<Check[]> {
  const now = opts.now ?? new Date();
  const env = opts.env ?? process.env;
  const checks: Check[] = [await gitVersion()];

  let m: GitMachine | undefined;
  try {
    m = await openMachine(opts.dir);
    checks.push(ok("config", `machine ${m.config.name} (uuid ${m.config.uuid}) in ${m.dir}`));
  } catch (e) {
    checks.push(fail("config", (e as Error).message, `coord init ${opts.dir} --name <machine> --remote <hub url>`));
  }

  if (m) {
    const { config, stateDir } = m;
    // doctor should answer quickly: a remote that does not answer in a minute is a finding
    const repo = new Repo(m.dir, stateDir, config.remote, config.branch, Math.min(config.gitTimeout, 60));
    const url = await repo.displayUrl();
    let reachable = false;
    let tip: string | undefined;
    const started = Date.now();
    try {
      tip = await repo.fetch();
      reachable = true;
      const read = tip && splitTip(tip)?.machines ? `${config.branch} and ${MACHINES_BRANCH}` : config.branch;
      checks.push(ok("remote", `${url} answers (fetched ${read} in ${Date.now() - started} ms)`));
    } catch (e) {
      const message = (e as Error).message;
      checks.push(
        message.startsWith("ALERT:")
          ? fail("remote", message, "ask the server's owner whether its host key changed before trusting it; until then coord does not connect")
          : fail(
              "remote",
              `${message} (the branch, push, clock and identity checks need it)`,
              `check the URL (git -C ${m.dir} remote get-url ${config.remote}), the network and this machine's credentials; git -C ${m.dir} fetch ${config.remote} shows git's own error`,
            ),
      );
    }
    if (reachable) {
      checks.push(
        tip
          ? ok("branch", branchesDetail(config.branch, tip))
          : fail("branch", `the remote has no branch ${config.branch}`, `coord init ${m.dir} --name ${config.name} --remote ${url} scaffolds it`),
      );
    }
    // Read before the push is tested: the push's line says whether the syncs proved the branch coord.
    const health = await readHealth(stateDir).catch((e: unknown) => e as Error);
    if (reachable) checks.push(await pushable(repo, url, tip, config.name, m.dir, health));
    const syncs = lastSyncs(health, m.dir, reachable, now);
    if (syncs) checks.push(syncs);
    if (reachable && tip) {
      checks.push(await budget(m, now));
      checks.push(await clock(repo, tip, config.name, now));
      checks.push(await identity(m, tip));
    }
    checks.push(signing(m));
    checks.push(github(m));
    checks.push(await sandboxCheck(m));
    checks.push(await lockState(stateDir));
    checks.push(await scheduled(m.dir, env));
  }

  checks.push(await agents(env, m));
  if (m) {
    const c = await onCallCheck(m, env);
    if (c) checks.push(c);
    const d = await onCallStateCheck(m.stateDir, now);
    if (d) checks.push(d);
    checks.push(...(await channelChecks(m, now).catch(() => [])));
  }
  checks.push(...(await leftovers(m?.dir ?? opts.dir)));
  // A check may quote what another machine wrote (its file at the tip, before any sync verified it): shown, never obeyed.
  return checks.map((c) => sanitizeDeep(c));
}

/** The budgets this machine works under (ORDERS.json's, else its host's: core/hub/reads.ts), and how often it looks at the hub. */
async function budget(m: GitMachine, now: Date): Promise<Check> {
  const known = await lastFetchedModel(m, READ_PATHS).catch(() => undefined);
  const controls: { budgets: { pushesPerMinute?: number; readsPerSecond?: number } } = known?.model.controls ?? { budgets: {} };
  const b = budgetsFor(m, controls);
  const share = known ? readShareAt(m, m.config.name, known.model, now) : readShareOf(b.readsPerSecond, 1);
  const detail = `${m.host?.host ?? "the hub"}: ${describeBudgets(b)}; a daemon here takes ${describeReadShare(share)}`;
  if (m.host?.kind === "other" && !controls.budgets.pushesPerMinute && !controls.budgets.readsPerSecond)
    return warn(
      "budget",
      `${detail}: the conservative default of a host coord does not know`,
      `if the host allows more, ${HOST_DEFAULTS_TEXT.slice(HOST_DEFAULTS_TEXT.indexOf("set or raise"))}`,
    );
  return ok("budget", detail);
}

/** Whether this machine's commits can show Verified on GitHub (core/trust/github.ts): said, never a warning (coord does not need it). */
function github(m: GitMachine): Check {
  const v = verifiedVerdict({ machine: m.config.name, publicKey: m.signing?.publicKey, commitEmail: m.config.trust.commitEmail });
  return ok("github", v.can ? `Verified on GitHub: ${v.detail}` : `not Verified on GitHub: ${v.detail} (for people reading the hub there: ${v.fix})`);
}

/** Whether this machine signs its commits, and verifies other machines' (docs/security.md). */
function signing(m: GitMachine): Check {
  const verify = m.config.trust.verifyMachines ? "reads other machines' files as their signed commits wrote them" : "reads other machines' files as they are";
  if (m.signing?.publicKey) return ok("signing", `signs its commits with ${m.signing.path} (${keyFingerprint(m.signing.publicKey)}); ${verify}`);
  const why = m.signing?.problem ?? "it has no signing key";
  return warn(
    "signing",
    `signs nothing (${why}): other machines cannot tell its changes from anyone's; ${verify}`,
    m.signing ? "fix what is named, or coord trust key (an ed25519 key, which coord signs with by itself)" : "coord trust key",
  );
}

/** Whether the agents coord starts here run behind the shield that hides the key (docs/security.md, "The agents' sandbox"). */
async function sandboxCheck(m: GitMachine): Promise<Check> {
  const v = await agentSandbox(m);
  const name = "sandbox";
  if (v.run === "shielded")
    return ok(name, `agents coord starts run behind ${v.tool.kind === "bwrap" ? "bubblewrap" : "sandbox-exec"}: they cannot read this machine's key or secrets`);
  if (v.run === "bare") return warn(name, v.warning, "set agentSandbox: on in machine.yaml (or take COORD_AGENT_SANDBOX=off out of coord's environment)");
  const [why, fix] = v.refused.split(/: (?=install|sandbox-exec|coord has no)/);
  return warn(name, `${why}: agents on call and agent orders do not start here`, fix);
}

/** 1 when any check failed, else 0. */
export function doctorExitCode(checks: Check[]): 0 | 1 {
  return checks.some((c) => c.level === "FAIL") ? 1 : 0;
}

/** `OK   git       2.39.5`, one line a check, the fix on the next line. */
export function formatChecks(checks: Check[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length)) + 2;
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.level.padEnd(5)}${c.name.padEnd(width)}${c.detail}`);
    if (c.fix && c.level !== "OK") lines.push(`${" ".repeat(5 + width)}fix: ${c.fix}`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------- the checks

async function gitVersion(): Promise<Check> {
  let text: string;
  try {
    text = await gitVersionText(tmpdir());
  } catch (e) {
    return fail("git", `git does not run: ${firstLine(String((e as Error).message))}`, `install git ${WARN_GIT.join(".")} or newer`);
  }
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  const version = text.replace(/^git version\s*/, "").trim();
  if (!m) return warn("git", `cannot read the version of "${version}"`, `use git ${WARN_GIT.join(".")} or newer`);
  const v: [number, number] = [Number(m[1]), Number(m[2])];
  const below = (min: [number, number]) => v[0] < min[0] || (v[0] === min[0] && v[1] < min[1]);
  if (below(MIN_GIT)) return fail("git", `${version} is older than ${MIN_GIT.join(".")}, which coord needs`, `upgrade git to ${WARN_GIT.join(".")} or newer`);
  if (below(WARN_GIT)) return warn("git", `${version} is older than ${WARN_GIT.join(".")}; coord is tested with newer ones`, `upgrade git to ${WARN_GIT.join(".")} or newer`);
  return ok("git", version);
}

/** Both branches' tips: the people's and the machines'. */
function branchesDetail(branch: string, tip: string): string {
  const t = splitTip(tip);
  const people = `${branch} at ${commitOf(tip, "people").slice(0, 12)}`;
  if (!t) return people;
  return `${people}; the machines' branch ${MACHINES_BRANCH} ${t.machines ? `at ${t.machines.slice(0, 12)}` : "is not there yet (the first sync makes it)"}`;
}

/** What a failed git command of doctor's said, in one line: the server's own words (its `remote:` lines, each ref it refused, with why), redacted. */
function gitSaid(e: unknown, timeout: number): string {
  if (isTimeout(e)) return `the remote did not answer in ${timeout} s (gitTimeout in .git/coord/machine.yaml sets how long coord waits)`;
  return redact(gitFailureText(String((e as Error)?.message ?? e)));
}

/**
 * A real push, of a ref this machine owns (refs/coord-doctor/<machine>), then
 * its delete: the server's hooks and rules see both, as they see a sync's
 * push (a dry run never reaches them). The commit pushed is an empty root
 * commit made here (one small object sent): it changes no file, so rules per
 * path (gitolite's VREF/NAME) let it through as they let the machine's own
 * files through. It proves the hub takes a push of this machine's, not a
 * push of the branch coord itself: a rule for coord alone shows in the last
 * syncs (lastSyncs).
 */
async function pushable(repo: Repo, url: string, tip: string | undefined, machine: string, dir: string, health: Health | Error): Promise<Check> {
  if (!tip)
    return warn("push", "cannot be tested: the hub has no commit to push yet", `coord init ${dir} --name ${machine} --remote ${url} scaffolds it; run coord doctor again after it`);
  const ref = `refs/coord-doctor/${machine}`;
  const push = (refspec: string) => repo.pushRefspec(refspec);
  try {
    // Forced: a ref a killed doctor left at an older commit is replaced, not a "non-fast-forward".
    const probe = await repo.commitFiles(undefined, new Map(), machineAuthor(machine), `coord doctor: ${machine}'s push test, deleted at once`);
    await push(`+${probe}:${ref}`);
  } catch (e) {
    return fail(
      "push",
      `${url} refused a push of ${ref}, a ref of this machine's own: ${gitSaid(e, repo.timeout)}`,
      `give this machine's ssh key or token write access to ${url}, for refs/coord-doctor/* as well as refs/heads/${MACHINES_BRANCH} (docs/security.md lists the rules coord needs)`,
    );
  }
  try {
    await push(`:${ref}`);
  } catch (e) {
    const said = gitSaid(e, repo.timeout);
    // Another doctor of this machine deleted it first: it is gone all the same.
    if (!/remote ref does not exist/i.test(said))
      return warn(
        "push",
        `${url} accepted a push of ${ref}, a ref of this machine's own, but refused its delete, so the ref stays on the hub: ${said}`,
        `git -C ${dir} push ${repo.remote} :${ref} removes it (with a credential the hub lets delete it)`,
      );
  }
  const coord =
    health instanceof Error || health.failures > 0
      ? `pushes of the branch ${MACHINES_BRANCH} itself are proven by this machine's syncs (see the sync line)`
      : `pushes of the branch ${MACHINES_BRANCH} itself are proven by this machine's syncs, and none has failed since the last that succeeded`;
  return ok("push", `${url} accepted a push of ${ref}, a ref of this machine's own (an empty commit that changes no file), and its delete; ${coord}`);
}

const syncCount = (n: number) => `${n} failed sync${n === 1 ? "" : "s"}`;

/**
 * This machine's own last syncs (.git/coord/health.json): a push of coord the
 * hub refused, or a run of failures, with the last error as the sync said it.
 * Undefined when none failed since the last that succeeded (the push line says so).
 */
function lastSyncs(health: Health | Error, dir: string, reachable: boolean, now: Date): Check | undefined {
  if (health instanceof Error) return warn("sync", `cannot read this machine's record of failed syncs: ${health.message}`, `check the permissions of ${dir}/.git/coord`);
  const n = health.failures;
  if (n === 0) return undefined;
  const at = health.since ?? health.lastFailureAt;
  const started = at ? ` since ${at}, ${seconds((now.getTime() - Date.parse(at)) / 1000)} ago` : "";
  const error = redact(health.lastError ?? "no error was recorded").replace(/\s*\n\s*/g, " ");
  const again = `coord sync --dir ${dir} tries again and says why; coord logs --dir ${dir} shows each sync`;
  if (health.refused)
    return fail(
      "sync",
      `the hub refused this machine's last push (${syncCount(n)}${started}): ${error}`,
      `let this machine's ssh key or token push refs/heads/${MACHINES_BRANCH} (a protected branch, a ruleset or a hook on the hub refuses it; docs/security.md lists the rules coord needs), then ${again}`,
    );
  if (health.unreachable)
    return warn(
      "sync",
      `the last syncs could not reach the hub (${syncCount(n)}${started}): ${error}${reachable ? "; it answers now" : ""}`,
      reachable ? again : "see the remote line; the daemon syncs as soon as the hub answers",
    );
  const stalled = n >= STALL_AFTER;
  return (stalled ? fail : warn)("sync", `the last syncs of this machine failed (${syncCount(n)}${started}${stalled ? ": it reports itself stalled" : ""}): ${error}`, again);
}

async function lockState(stateDir: string): Promise<Check> {
  const lockfilePath = join(stateDir, "sync.lock");
  try {
    if (await lockfile.check(join(stateDir, "sync"), { realpath: false, lockfilePath, stale: timings.syncLockStaleMs }))
      return ok("lock", "a sync is running in this checkout now");
    const left = await access(lockfilePath).then(
      () => true,
      () => false,
    );
    return ok("lock", left ? "no sync running (a stopped sync left its lock; the next sync takes it over)" : "no sync running");
  } catch (e) {
    return warn("lock", `cannot read the sync lock ${lockfilePath}: ${(e as Error).message}`, `check the permissions of ${stateDir}`);
  }
}

function seconds(s: number): string {
  s = Math.round(Math.abs(s));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** Compares this clock with the newest commit another machine made in the last hour. */
async function clock(repo: Repo, tip: string, self: string, now: Date): Promise<Check> {
  let log: RecentCommit[];
  try {
    log = await repo.recentCommits(tip, 500);
  } catch (e) {
    return warn("clock", `cannot be measured: ${firstLine(String((e as Error).message))}`);
  }
  const nowS = now.getTime() / 1000;
  let newest: { at: number; machine: string } | undefined;
  for (const c of log) {
    const machine = /^coord ([a-z0-9][a-z0-9-]*)$/.exec(c.committer)?.[1];
    // root commits are hub scaffolds; only machines' sync commits count
    if (!machine || machine === self || c.parents.length === 0) continue;
    const at = c.committedAt;
    if (!Number.isFinite(at) || at < nowS - 3600) continue;
    if (!newest || at > newest.at) newest = { at, machine };
  }
  if (!newest) return ok("clock", "cannot be measured: no other machine committed in the last hour");
  const ahead = newest.at - nowS;
  if (ahead > MAX_SKEW_SECONDS)
    return warn(
      "clock",
      `a commit of ${newest.machine} is dated ${seconds(ahead)} in the future: this clock is behind, or ${newest.machine}'s is ahead (heartbeats and leases go wrong)`,
      `turn on time sync here and on ${newest.machine}: timedatectl set-ntp true (or run chrony / ntpd)`,
    );
  return ok("clock", `agrees with ${newest.machine} (its newest commit is dated ${ahead > 0 ? `${seconds(ahead)} ahead` : `${seconds(ahead)} ago`})`);
}

async function identity(m: GitMachine, tip: string): Promise<Check> {
  const { repo, config, dir } = m;
  const { name, uuid } = config;
  const path = computerPath(name);
  let text: string | undefined;
  try {
    text = (await repo.readFiles(tip, [path])).get(path);
  } catch (e) {
    return warn("identity", `cannot read ${path}: ${firstLine(String((e as Error).message))}`);
  }
  let theirs: ReturnType<typeof parseComputer> | Error | undefined;
  try {
    theirs = text === undefined ? undefined : parseComputer(text, name);
  } catch (e) {
    theirs = e as Error;
  }
  // Decided as a sync decides (sync/trust.ts identityAt), worded for a person.
  const vouched = config.trust.verifyMachines ? (await readRoster(m.stateDir).catch(() => undefined))?.get(name) : undefined;
  const own = m.signing?.publicKey;
  let decided: Awaited<ReturnType<typeof identityAt>>;
  try {
    decided = await identityAt(repo, tip, m, theirs instanceof Error ? undefined : theirs, vouched);
  } catch (e) {
    // A record of a reclaim that is no file (found in attack): the sync stops on it, and says so; doctor goes on.
    return fail("identity", `cannot be decided: ${firstLine(describeFailure(e).message)}; coord sync runs nothing until then`);
  }
  const { verdict, change } = decided;
  switch (verdict.kind) {
    case "wrong-key":
      return fail(
        "identity",
        `ORDERS.json's keys name ${keyFingerprint(verdict.vouched)} for ${name}, and this copy signs with ${own ? keyFingerprint(own) : "no key"}: it runs nothing`,
        `if ${name} was reinstalled elsewhere, remove this copy's schedule (coord cron uninstall, coord daemon stop); else put this copy's key in ORDERS.json's keys`,
      );
    case "forged":
      return warn(
        "identity",
        `${path} on the hub ${verdict.claim.kind === "reclaimed" ? "says this identity was reclaimed" : `names another machine (uuid ${verdict.claim.uuid})`} in commit ${change?.commit.slice(0, 12)} by ${change?.author}, not signed with this machine's key: not believed (ORDERS.json's keys vouch for ${name})`,
        "its next sync writes the file again",
      );
    case "claimed":
      return verdict.claim.kind === "reclaimed"
        ? fail(
            "identity",
            `this identity (${name}) was reclaimed on ${verdict.claim.host} at ${verdict.claim.at}; this copy runs nothing`,
            `remove this copy's schedule (coord cron uninstall, coord daemon stop), or take the identity back: coord init ${dir} --name ${name} --remote <hub url> --reclaim`,
          )
        : fail(
            "identity",
            `the name ${name} is owned by another machine (uuid ${verdict.claim.uuid}, last seen ${verdict.claim.lastSeen}); syncs are refused`,
            `choose another name (coord init <new dir> --name <other>), or, if that machine is this one reinstalled, coord init ${dir} --name ${name} --remote <hub url> --reclaim`,
          );
    case "itself":
      if (theirs instanceof Error) return warn("identity", `${path} does not parse (${theirs.message})`, "coord sync rewrites it (it is this machine's own file)");
      if (theirs === undefined) return ok("identity", `${name} is not registered yet; the next sync registers it`);
      return ok("identity", `${path} is this machine's (uuid ${uuid})`);
  }
}

/** How the installed daemon (coord daemon install) survives a reboot and a crash; undefined when none is installed. */
async function survives(dir: string, env: NodeJS.ProcessEnv, svc: ServiceStatus): Promise<Check | undefined> {
  if (svc.systemd) {
    const { unit, why, enabled, active, linger } = svc.systemd;
    const name = `coord daemon: systemd user service ${unit}`;
    if (why)
      return warn("schedule", `${name} is installed, but ${why}`, `systemctl --user enable --now ${unit} once the user's systemd runs, or: coord daemon install --kind cron`);
    if (enabled !== "enabled") return warn("schedule", `${name} is installed but ${enabled}, so it does not start at boot`, `coord daemon install --dir ${dir}`);
    if (active === "failed")
      return warn(
        "schedule",
        `${name} failed: it exited with an error 5 times in 10 minutes (or with exit code 2), and systemd stopped restarting it`,
        `journalctl --user -u ${unit} says why; then systemctl --user reset-failed ${unit} && systemctl --user start ${unit}`,
      );
    if (active !== "active") return warn("schedule", `${name} is enabled but ${active}`, `systemctl --user start ${unit}`);
    if (!linger)
      return warn(
        "schedule",
        `${name} runs and is restarted on failure, but starts at login, not at boot (lingering is off)`,
        `loginctl enable-linger ${env.USER || env.LOGNAME || "$USER"}`,
      );
    return ok("schedule", `${name}, enabled and active: started at boot, restarted on failure`);
  }
  if (svc.launchd) {
    const { path, label, loaded } = svc.launchd;
    const name = `coord daemon: launchd agent ${path}`;
    const domain = `gui/${process.getuid?.() ?? 501}`;
    if (loaded === false) return warn("schedule", `${name} is written but not loaded, so nothing starts the daemon`, `launchctl bootstrap ${domain} ${path}`);
    if (loaded && loaded.state !== "running")
      return warn(
        "schedule",
        `${name} is loaded but ${loaded.state ?? "in no state launchctl names"}${loaded.lastExit ? ` (last exit code ${loaded.lastExit})` : ""}`,
        `coord logs --dir ${dir} says why; then launchctl kickstart -k ${domain}/${label}`,
      );
    return ok("schedule", `${name}: started at login, restarted when it exits with an error${loaded?.pid ? `; running now (pid ${loaded.pid})` : ""}`);
  }
  if (svc.schtasks) {
    const { name: task, path, registered } = svc.schtasks;
    const name = `coord daemon: Task Scheduler task ${task}`;
    if (registered === false)
      return warn("schedule", `${name} is written (${path}) but not registered, so nothing starts the daemon`, `schtasks /Create /TN "${task}" /XML "${path}" /F`);
    const said = registered ? ` (Windows says: ${registered.status})` : "";
    const daemon = await daemonStatus(dir).catch(() => undefined);
    if (daemon?.running && daemon.info)
      return ok("schedule", `${name}${said}: at logon and every 5 minutes it starts the daemon unless one runs; running now (pid ${daemon.info.pid})`);
    return warn(
      "schedule",
      `${name}${said}, but the daemon is not running now`,
      `schtasks /Run /TN "${task}", or coord daemon start --dir ${dir}; coord logs --dir ${dir} says why it stopped`,
    );
  }
  if (svc.cron) {
    const name = "coord daemon: crontab lines start it at reboot and every 5 minutes if it died";
    const daemon = await daemonStatus(dir).catch(() => undefined);
    if (daemon?.running && daemon.info) return ok("schedule", `${name}; running now (pid ${daemon.info.pid}, schedule ${daemon.info.schedule})`);
    return warn("schedule", `${name}, but it is not running now`, `coord daemon start --dir ${dir} (and check that cron runs: the lines start it within 5 minutes)`);
  }
  return undefined;
}

async function scheduled(dir: string, env: NodeJS.ProcessEnv): Promise<Check> {
  try {
    const installed = await survives(dir, env, await daemonServiceStatus(dir, env));
    if (installed) return installed;
    const s = await scheduleStatus(dir, env);
    if (s.cron && s.systemd)
      return warn(
        "schedule",
        `both a crontab line and ${s.systemd} run coord sync here (harmless: one skips, but one is enough)`,
        "coord cron uninstall (or coord cron uninstall --systemd)",
      );
    if (s.cron) return ok("schedule", `crontab: ${s.cron.split(" ").slice(0, 5).join(" ")}`);
    if (s.systemd) return ok("schedule", `systemd user timer ${s.systemd}`);
    const daemon = await daemonStatus(dir).catch(() => undefined);
    if (daemon?.running && daemon.info)
      return warn(
        "schedule",
        `coord daemon, pid ${daemon.info.pid}, schedule ${daemon.info.schedule}, started by hand: it does not start again after a reboot or a crash`,
        `coord daemon install --dir ${dir} (or coord cron install)`,
      );
    const why = s.notes.length ? ` (${s.notes.join("; ")})` : "";
    return warn("schedule", `nothing runs coord sync here on a schedule${why}`, "coord daemon install (or coord cron install)");
  } catch (e) {
    return warn("schedule", `cannot tell: ${(e as Error).message}`, "coord daemon install (or coord cron install)");
  }
}

/**
 * Agents on call, as the daemon will see them: the onCall: block one coord can run (its line when broken), the
 * machine verifying signatures (else no message starts a turn), the cwd still there and allowed, codex's cwd a git
 * repository, the CLI on the PATH of the process that runs the turns (the daemon's, as it recorded it in daemon.json
 * or, from an older daemon, as /proc/<pid>/environ has it; without a daemon, this shell's), and whether a daemon
 * runs the turns. None when the machine is not on call.
 */
async function onCallCheck(m: GitMachine, env: NodeJS.ProcessEnv): Promise<Check | undefined> {
  const read = await loadOnCall(m.stateDir);
  if (read.problem) return fail("on call", read.problem, "fix the block, or run coord agent on-call <cli> --cwd <dir> --from <machines> (or --off)");
  const s = read.settings;
  if (!s) return undefined;
  const who = s.from === "ALL" ? "every machine" : s.from.join(", ");
  const what = `${s.agent} answers ${who} in ${s.cwd} (permissions ${s.permissions})`;
  if (!m.config.trust.verifyMachines)
    return fail(
      "on call",
      `${what}, but no message starts a turn: this machine does not verify other machines' signatures (trust.verifyMachines is false)`,
      "coord trust machines on",
    );
  const where = await allowedDir(m, s.cwd);
  const dir = "refused" in where ? undefined : where.cwd;
  const st = dir ? await stat(dir).catch(() => undefined) : undefined;
  if (!dir || !st?.isDirectory())
    return fail(
      "on call",
      `${what}, but every turn fails: ${"refused" in where ? where.refused : `cwd ${where.cwd} ${st ? "is not a directory" : "does not exist"}`}`,
      `create it, or run coord agent on-call ${s.agent} --cwd <dir> --from ${s.from === "ALL" ? "ALL" : s.from.join(",")}`,
    );
  if (AGENTS.get(s.agent)?.onCall?.gitRepo && !(await insideGitRepo(dir)))
    return fail(
      "on call",
      `${what}, but ${s.agent} refuses a cwd that is not inside a git repository, and ${dir} is not`,
      `git init ${dir}, or put the machine on call with a cwd inside a repository`,
    );
  const daemon = await daemonStatus(m.dir);
  const daemonPath = daemon.running && daemon.info ? (daemon.info.path ?? (await environPath(daemon.info.pid))) : undefined;
  const path = daemonPath ?? env.PATH ?? "";
  const whose = daemonPath !== undefined ? `the daemon's PATH (pid ${daemon.info!.pid})` : daemon.running ? "this shell's PATH (the daemon's is not known)" : "this shell's PATH";
  const names = AGENT_CLIS.get(s.agent) ?? [s.agent];
  const found = (await Promise.all(names.map((n) => onPath(n, path)))).some(Boolean);
  if (!found)
    return fail(
      "on call",
      `${what}, but ${s.agent} is not on ${whose} (${names.join(" or ")}): every turn fails`,
      daemonPath !== undefined
        ? `install ${s.agent} on that PATH, or restart the daemon from a shell whose PATH has it (coord daemon install)`
        : `install ${s.agent}, or put it on the PATH coord runs with`,
    );
  if (daemon.running) return ok("on call", `${what}; its daemon runs the turns (${s.agent} found on ${whose})`);
  return warn(
    "on call",
    `${what}; no daemon runs: each coord sync runs the turns of the messages it delivers, so an answer waits for the next sync`,
    "coord daemon install, for answers in seconds",
  );
}

/** Whether `dir` is inside a git repository (a .git file or directory in it or above it), as codex requires. */
/** A damaged on-call.json set aside (what was kept, what lost, where the copy is), or one doctor cannot read. */
async function onCallStateCheck(stateDir: string, now: Date): Promise<Check | undefined> {
  const path = onCallStatePath(stateDir);
  let state: OnCallState;
  try {
    state = await readOnCallState(stateDir);
  } catch (e) {
    return warn("on-call state", `cannot read ${path}: ${describeFailure(e).message}`);
  }
  const notice = setAsideNotice(state, path, now);
  if (!notice) return undefined;
  const held = state.spent?.held === true;
  return warn(
    "on-call state",
    notice,
    held ? "check today's spend in the agent CLI's own records, then coord agent on-call --spent-today <usd>" : "nothing to do: it says what was lost",
  );
}

async function insideGitRepo(dir: string): Promise<boolean> {
  for (let at = dir, i = 0; i < 100; i++) {
    if (
      await access(join(at, ".git")).then(
        () => true,
        () => false,
      )
    )
      return true;
    const up = dirname(at);
    if (up === at) return false;
    at = up;
  }
  return false;
}

/** The PATH of process `pid` from its environment (a daemon older than daemon.json's path), or undefined. */
async function environPath(pid: number): Promise<string | undefined> {
  return (await environOf(pid))?.find((e) => e.startsWith("PATH="))?.slice(5);
}

async function agents(env: NodeJS.ProcessEnv, m?: GitMachine): Promise<Check> {
  const supported = [...AGENT_CLIS.keys()].join(", ");
  // Asked as coord starts them: with their logins from this machine's secret store.
  const store = m ? await loginStore(m.stateDir) : {};
  const found = await findAgents(env.PATH ?? "", store);
  if (!found.length) return ok("agents", `none on PATH; supported: ${supported}`);
  const line = (a: AgentFound) =>
    `${a.name}${a.executable === a.name ? "" : ` (${a.executable})`} ${a.version ?? "(version unknown)"}${a.loggedIn === false ? ", not logged in" : a.loggedIn ? ", logged in" : ""}${a.via ? ` (${a.via})` : ""}`;
  const detail = found.map(line).join("; ");
  const out = found.filter((a) => a.loggedIn === false);
  if (out.length)
    return warn(
      "agents",
      `${detail}: orders for ${out.map((a) => a.name).join(", ")} are refused here`,
      out.map((a) => (a.via ? `set what is missing (${a.via}) where coord runs` : `log in (${a.how} says how it stands; docs/agents.md)`)).join("; "),
    );
  const unlike = m ? await loggedOutForSyncs(m, found) : undefined;
  if (unlike?.names.length)
    return warn(
      "agents",
      `${detail}; but this machine's syncs found ${unlike.names.join(", ")} not logged in (its file as last published${unlike.at ? `, ${unlike.at}` : ""}): a daemon started by launchd, over SSH or by cron does not see this shell's login, and on macOS cannot read one kept in the Keychain`,
      unlike.names.map((n) => `${n}: ${unattendedLogin(AGENTS.get(n)!) ?? "log it in where the daemon runs"}`).join("; "),
    );
  return ok("agents", detail);
}

/** The agent CLIs this shell finds logged in that this machine's syncs (its daemon, cron) published as not logged in, and when. */
async function loggedOutForSyncs(m: GitMachine, found: AgentFound[]): Promise<{ names: string[]; at?: string } | undefined> {
  const own = (await lastPublished(m).catch(() => undefined))?.files.computers.get(m.config.name);
  if (!own) return undefined;
  const names = found.filter((a) => a.loggedIn === true && loggedOutCapability(Object.hasOwn(own.capabilities, a.name) ? own.capabilities[a.name] : undefined)).map((a) => a.name);
  return { names, ...(own.lastSeen ? { at: own.lastSeen } : {}) };
}

/** Locks and half-done operations a crashed git command left in the checkout. */
async function leftovers(dir: string): Promise<Check[]> {
  let gitDir: string;
  try {
    gitDir = await gitDirOf(dir);
  } catch {
    return []; // the config check already says there is no checkout
  }
  const found: Check[] = [];
  const age = async (p: string) => {
    const s = await stat(p).catch(() => undefined);
    return s ? (Date.now() - s.mtimeMs) / 1000 : undefined;
  };
  // coord sync repairs both (src/git/repair.ts): a lock older than a minute is removed, an operation
  // left half done is aborted after the changed files are copied to .git/coord/repair/.
  for (const lock of ["index.lock", "shallow.lock"]) {
    const p = join(gitDir, lock);
    const a = await age(p);
    if (a !== undefined)
      found.push(
        warn(
          "checkout",
          `${p} is left over (${seconds(a)} old); git commands in the checkout fail while it is there`,
          `coord sync removes it once it is a minute old; or, if no git command is running in ${dir}: rm ${p}`,
        ),
      );
  }
  const operations: [string, string, string][] = [
    ["MERGE_HEAD", "a merge", `git -C ${dir} merge --abort`],
    ["rebase-merge", "a rebase", `git -C ${dir} rebase --abort`],
    ["rebase-apply", "a rebase (or git am)", `git -C ${dir} rebase --abort (or am --abort)`],
    ["CHERRY_PICK_HEAD", "a cherry-pick", `git -C ${dir} cherry-pick --abort`],
    ["REVERT_HEAD", "a revert", `git -C ${dir} revert --abort`],
  ];
  for (const [file, what, command] of operations)
    if ((await age(join(gitDir, file))) !== undefined)
      found.push(
        warn(
          "checkout",
          `${what} is in progress in ${dir}; the checkout cannot follow the remote until it ends`,
          `coord sync aborts it (the changed files copied to .git/coord/repair/ first); or: ${command}`,
        ),
      );
  return found.length ? found : [ok("checkout", "no leftover git lock, merge or rebase")];
}
