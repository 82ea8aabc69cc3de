// The remote's branch tip, asked with one `git ls-remote` and nothing else
// loaded: the quiet sync (src/sync/quiet.ts) compares it with the tip its
// last sync ended on. The command runs as every coord git command does
// (env.ts): it never prompts, and it is killed at the deadline.
import { execFile } from "node:child_process";
import { gitCommandEnv } from "./env.js";

/** The commit `refs/heads/<branch>` points at on `remote`, or undefined when there is no such branch. Throws when the remote does not answer in `timeoutS`. */
export function remoteTip(dir: string, remote: string, branch: string, timeoutS: number): Promise<string | undefined> {
  const { env, config } = gitCommandEnv(dir);
  const ref = `refs/heads/${branch}`;
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...config, "ls-remote", "--quiet", remote, ref],
      { cwd: dir, env, timeout: timeoutS * 1000, killSignal: "SIGKILL", maxBuffer: 1024 * 1024, encoding: "utf8" },
      (error, stdout) => {
        if (error) return reject(error);
        for (const line of stdout.split("\n")) {
          const [sha, name] = line.split("\t");
          if (name === ref && sha && /^[0-9a-f]{40,64}$/.test(sha)) return resolve(sha);
        }
        resolve(undefined);
      },
    );
  });
}
