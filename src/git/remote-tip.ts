// The remote's branch tip, asked with one `git ls-remote` and nothing else
// loaded: the quiet sync (src/sync/quiet.ts) compares it with the tip its
// last sync ended on. The command runs as every coord git command does
// (env.ts): it never prompts, and it is killed at the deadline.
import { joinTip, MACHINES_BRANCH } from "../core/branches.js";
import { gitCommandEnv } from "./env.js";
import { runGit } from "./run.js";

/**
 * The tip of `remote` (core/branches.ts joinTip: `refs/heads/<branch>` and the
 * machines' branch, `refs/heads/coord`), or undefined when there is no
 * `branch`. Throws when the remote does not answer in `timeoutS`.
 */
export async function remoteTip(dir: string, remote: string, branch: string, timeoutS: number): Promise<string | undefined> {
  const { env, config } = gitCommandEnv(dir);
  const people = `refs/heads/${branch}`;
  const machines = `refs/heads/${MACHINES_BRANCH}`;
  // As every coord git command (run.ts): at the deadline, git goes with its whole group (the ssh it started too).
  const out = (await runGit([...config, "ls-remote", "--quiet", remote, people, machines], { cwd: dir, env, timeoutMs: timeoutS * 1000 })).toString("utf8");
  const tips = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name && sha && /^[0-9a-f]{40,64}$/.test(sha)) tips.set(name, sha);
  }
  const p = tips.get(people);
  return p === undefined ? undefined : joinTip(p, tips.get(machines));
}
