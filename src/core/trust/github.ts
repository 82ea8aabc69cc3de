// Whether a machine's commits can show "Verified" on GitHub, and how a person makes them so. GitHub shows a commit
// Verified when its SSH signature's key is a *signing* key of the account whose verified email is the commit's
// committer email (an account may hold any number of signing keys). coord signs every machine commit with the
// machine's key (git's SSH format); the committer email is `<machine>@coord.invalid` unless `trust.commitEmail` names
// one. GitHub never re-checks a commit after a key is removed from the account, so coord's own roster of pinned keys
// stays the authority between machines; Verified is for people reading the hub on GitHub. Pure.

/** The committer email of a machine's commits when none is set: never an address anyone verifies. */
export const defaultCommitEmail = (machine: string) => `${machine}@coord.invalid`;

/** An email as a commit may carry it: no spaces, no angle brackets, one @, at most 254 characters. */
export const COMMIT_EMAIL = /^[^\s<>@]+@[^\s<>@]+$/;

export function commitEmailProblem(email: string): string | undefined {
  if (email.length > 254) return "is longer than 254 characters";
  if (!COMMIT_EMAIL.test(email)) return "is not an email address (name@host, no spaces or angle brackets)";
  return undefined;
}

export type VerifiedVerdict = { can: true; email: string; detail: string } | { can: false; detail: string; fix: string };

/** Whether this machine's commits can show Verified on GitHub, from what it signs with and commits as. */
export function verifiedVerdict(o: { machine: string; publicKey?: string | undefined; commitEmail?: string | undefined }): VerifiedVerdict {
  if (!o.publicKey) return { can: false, detail: "its commits are not signed", fix: "coord trust key, then coord trust github --email <your GitHub email>" };
  if (!o.commitEmail || o.commitEmail.endsWith(".invalid"))
    return {
      can: false,
      detail: `its commits are signed, but by ${o.commitEmail ?? defaultCommitEmail(o.machine)}, which no GitHub account verifies`,
      fix: "coord trust github --email <an email your GitHub account has verified>",
    };
  return {
    can: true,
    email: o.commitEmail,
    detail: `its commits are signed and by ${o.commitEmail}: GitHub shows them Verified once this machine's key is a signing key of the account that verified ${o.commitEmail} (coord trust github prints the command)`,
  };
}

/** The command that registers `publicKey` as a signing key of the GitHub account `gh` is logged in to, for `machine`. */
export function registerCommand(machine: string, publicKey: string): string {
  const key = publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
  return `gh api --method POST /user/ssh_signing_keys -f key='${key}' -f title='coord ${machine}'`;
}
