// What coord adds to the user's transport, and what it keeps of git's errors.
// Pure: the ssh command line and the text of a failure, nothing run here.

/** The program a shell command line starts (its first word, unquoted), lowercased, without directory or .exe. */
export function programOf(command: string): string {
  const m = /^\s*(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(command);
  const word = m?.[1] ?? m?.[2] ?? m?.[3] ?? "";
  return (word.split(/[\\/]/).pop() ?? "").toLowerCase().replace(/\.exe$/, "");
}

/** A path as one word of a POSIX shell command. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The user's ssh command (GIT_SSH_COMMAND, core.sshCommand, or GIT_SSH as a
 * shell word; "ssh" when none) with only what keeps it from ever prompting
 * added: `-o BatchMode=yes` for OpenSSH, `-batch` for PuTTY's plink. Their
 * keys, ports, proxies and options stay. A program coord does not know (a
 * wrapper script) is left exactly as it is.
 */
export function nonInteractiveSsh(command: string): string {
  const program = programOf(command);
  if (program === "ssh") return /\bBatchMode\b/i.test(command) ? command : `${command} -o BatchMode=yes`;
  if (program === "plink" || program === "tortoiseplink") return /(^|\s)-batch\b/.test(command) ? command : `${command} -batch`;
  return command;
}

/** Lines of ssh or git that say why a connection failed (kept; "Could not read from remote repository" alone says nothing). */
const CAUSE =
  /^ssh: |Permission denied|Host key verification failed|host key is known|Connection (refused|timed out|closed|reset)|kex_exchange_identification|No route to host|Network is unreachable|Could not resolve host|Too many authentication failures|no matching (host key|key exchange|cipher|MAC)|Bad owner or permissions|Load key |Repository not found|Authentication failed|could not read (Username|Password)/i;
/** What a git host says in capitals before closing (GitHub: "ERROR: Repository not found."). */
const HOST_ERROR = /^ERROR: /;

/** Whether git's text says the server's host key is not the one known for it (a possible man-in-the-middle). */
export function isHostKeyChange(text: string): boolean {
  return /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/i.test(text);
}

/**
 * What a failed git command says, in one line: git's fatal line and the
 * lines of ssh that say why. A changed host key comes first as an ALERT.
 */
export function gitFailureText(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (isHostKeyChange(text)) {
    const host = /Host key for (\S+) has changed/i.exec(text)?.[1];
    const offending = lines.find((l) => /^Offending .* key in /i.test(l));
    return (
      `ALERT: the remote's host key changed (possible attack: someone may be intercepting the connection); ssh refused to connect. ` +
      `Do not accept the new key until the server's owner confirms it changed; then remove the old one${offending ? ` (${offending.replace(/\.$/, "")})` : ""}: ssh-keygen -R ${host ?? "<host>"}`
    );
  }
  const fatalAt = lines.findIndex((l) => /^(fatal|error):/.test(l));
  const fatal = fatalAt >= 0 ? lines[fatalAt]!.replace(/^(fatal|error):\s*/, "") : undefined;
  const causes = lines.filter((l, i) => i !== fatalAt && (CAUSE.test(l) || HOST_ERROR.test(l))).map((l) => l.replace(/^ssh:\s*/, "").replace(/^(fatal|error|ERROR):\s*/i, ""));
  const generic = fatal === undefined || /could not read from remote repository/i.test(fatal);
  const parts = [...new Set([...causes, ...(causes.length && generic ? [] : [fatal ?? lines[0] ?? text.trim()])])];
  // One line: each part but the last loses its closing period.
  return parts.map((p, i) => (i < parts.length - 1 ? p.replace(/[.:]$/, "") : p)).join("; ");
}
