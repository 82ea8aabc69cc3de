// The ssh command and transport settings coord hands git, and what it keeps of a failed git command
// (the settings as git's own config answers them, which asks git: ssh.e2e.test.ts).
import { overSsh } from "../src/git/clone.js";
import { describe, expect, it } from "vitest";
import { parseUserSettings } from "../src/git/env.js";
import { fixFor, gitFailureText, isLostRace, isPushRefusal, isReadRefusal, nonInteractiveSsh, programOf, shellWord } from "../src/core/hub/ssh.js";

describe("nonInteractiveSsh", () => {
  const cases: [given: string, used: string][] = [
    ["ssh", "ssh -o BatchMode=yes"],
    ["ssh -i ~/.ssh/deploy -p 2222", "ssh -i ~/.ssh/deploy -p 2222 -o BatchMode=yes"],
    ["/usr/bin/ssh -F /etc/fleet/ssh_config", "/usr/bin/ssh -F /etc/fleet/ssh_config -o BatchMode=yes"],
    ['"/opt/my tools/ssh" -v', '"/opt/my tools/ssh" -v -o BatchMode=yes'],
    ["'C:/Program Files/OpenSSH/ssh.exe'", "'C:/Program Files/OpenSSH/ssh.exe' -o BatchMode=yes"],
    ["ssh -o batchmode=no", "ssh -o batchmode=no"], // the user chose: theirs stays
    ["plink -P 2222", "plink -P 2222 -batch"],
    ["tortoiseplink.exe", "tortoiseplink.exe -batch"],
    ["plink -batch", "plink -batch"],
    ["/usr/local/bin/ssh-wrapper --fleet", "/usr/local/bin/ssh-wrapper --fleet"], // unknown: left exactly as it is
  ];
  it.each(cases)("%s → %s", (given, used) => expect(nonInteractiveSsh(given)).toBe(used));

  it("programOf and shellWord", () => {
    expect(programOf("  /a/b/SSH.EXE -x")).toBe("ssh");
    expect(shellWord("/usr/bin/ssh")).toBe("/usr/bin/ssh");
    expect(shellWord("/opt/it's here/ssh")).toBe(`'/opt/it'\\''s here/ssh'`);
  });
});

describe("the transport coord asks of git", () => {
  it("reads the user's settings from git config --get-regexp (keys in lower case, the last value wins)", () => {
    expect(parseUserSettings("")).toEqual({ sshCommand: "", protocol: undefined, negotiation: undefined });
    expect(parseUserSettings("core.sshcommand ssh -i ~/.ssh/deploy -p 2222\nprotocol.version 2\nprotocol.version 1\n")).toEqual({
      sshCommand: "ssh -i ~/.ssh/deploy -p 2222",
      protocol: "1",
      negotiation: undefined,
    });
    expect(parseUserSettings("fetch.negotiationalgorithm consecutive\n").negotiation).toBe("consecutive");
  });
});

describe("gitFailureText", () => {
  const tail = "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.";
  const cases: [what: string, stderr: string, text: string][] = [
    ["a plain fatal line", "fatal: repository '/x' does not exist", "repository '/x' does not exist"],
    ["an error line", "error: src refspec main does not match any", "src refspec main does not match any"],
    ["no fatal line: the first line", "something odd\nmore", "something odd"],
    ["connection refused", `ssh: connect to host h port 22: Connection refused\n${tail}`, "connect to host h port 22: Connection refused"],
    ["name not resolved", `ssh: Could not resolve hostname h: Name or service not known\n${tail}`, "Could not resolve hostname h: Name or service not known"],
    ["publickey", `git@h: Permission denied (publickey).\n${tail}`, "git@h: Permission denied (publickey)."],
    ["a host's own error", `ERROR: Repository not found.\n${tail}`, "Repository not found."],
    [
      "https authentication: the server's words first",
      "remote: Invalid username or password.\nfatal: Authentication failed for 'https://h/x.git/'",
      "Invalid username or password; Authentication failed for 'https://h/x.git/'",
    ],
    [
      "a protected branch (GitHub's GH006), as a --porcelain push reports it",
      "To ../hub.git\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\nremote: error: GH006: Protected branch update failed for refs/heads/main.        \nremote: error: Changes must be made through a pull request.        \nerror: failed to push some refs to '../hub.git'",
      "GH006: Protected branch update failed for refs/heads/main; Changes must be made through a pull request; refs/heads/main refused by the remote (pre-receive hook declined)",
    ],
    [
      "gitolite's per-path rule, as a plain push reports it",
      "remote: FATAL: W VREF/NAME/coordination/messages/c_TO_a.md fleet c DENIED by VREF/NAME/\nTo hub:fleet\n ! [remote rejected] coord -> coord (hook declined)\nerror: failed to push some refs to 'hub:fleet'",
      "W VREF/NAME/coordination/messages/c_TO_a.md fleet c DENIED by VREF/NAME/; coord refused by the remote (hook declined)",
    ],
    [
      "git's progress on remote: lines is not the server's reason",
      "remote: Counting objects: 3, done.\nremote: Resolving deltas: 100% (1/1)\nfatal: the remote end hung up unexpectedly",
      "the remote end hung up unexpectedly",
    ],
    [
      "a cause and a specific fatal line",
      "ssh: connect to host h port 22: Connection timed out\nfatal: the remote end hung up unexpectedly",
      "connect to host h port 22: Connection timed out; the remote end hung up unexpectedly",
    ],
  ];
  it.each(cases)("%s", (_what, stderr, text) => expect(gitFailureText(stderr)).toBe(text));

  it.each([
    ["someone pushed first", "!\tHEAD:refs/heads/coord\t[rejected] (fetch first)\nerror: failed to push some refs", true],
    ["not a fast-forward", " ! [rejected]        coord -> coord (non-fast-forward)", true],
    ["a lease that went stale", "!\tabc:refs/heads/coord\t[rejected] (stale info)", true],
    ["the server's ref moved while it updated it", "!\tabc:refs/heads/coord\t[remote rejected] (failed to update ref)", true],
    ["a hook declined", "!\tabc:refs/heads/coord\t[remote rejected] (pre-receive hook declined)", false],
    ["a protected branch", " ! [remote rejected] main -> main (protected branch hook declined)", false],
    ["the server is gone", "fatal: '/x' does not appear to be a git repository", false],
    [
      "an atomic push whose coord lost to another push on the server",
      "remote: error: cannot lock ref 'refs/heads/coord': is at 8f00 but expected e442\n!\ta:refs/heads/coord\t[remote rejected] (atomic transaction failed)\n!\tb:refs/coord-wake/i6\t[remote rejected] (atomic transaction failed)",
      true,
    ],
    [
      "an atomic push whose wake ref a hook declined",
      "!\tb:refs/coord-wake/i6\t[remote rejected] (pre-receive hook declined)\n!\ta:refs/heads/coord\t[remote rejected] (atomic transaction failed)",
      false,
    ],
    ["an atomic push refused as a whole, with no reason of its own", "!\ta:refs/heads/coord\t[remote rejected] (atomic transaction failed)", false],
  ])("isLostRace: %s", (_what, text, race) => expect(isLostRace(text)).toBe(race));

  it("a changed host key is an ALERT that says what not to do and how to fix it", () => {
    const text = gitFailureText(
      "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nOffending ED25519 key in /home/u/.ssh/known_hosts:3\nHost key for github.com has changed and you have requested strict checking.\nHost key verification failed.\n" +
        tail,
    );
    expect(text).toMatch(/^ALERT: the remote's host key changed \(possible attack/);
    expect(text).toContain("Offending ED25519 key in /home/u/.ssh/known_hosts:3");
    expect(text).toMatch(/ssh-keygen -R github\.com$/);
  });
});

describe("which remotes git reaches through ssh (a clone looks the new checkout's ssh command up for those)", () => {
  it.each([
    ["ssh://git@github.com/me/fleet.git", true],
    ["git+ssh://host/fleet.git", true],
    ["git@github.com:me/fleet.git", true],
    ["host:fleet", true],
    ["https://github.com/me/fleet.git", false],
    ["git://127.0.0.1:9418/hub.git", false],
    ["file:///tmp/hub.git", false],
    ["/tmp/hub.git", false],
    ["./dir:name", false],
    ["hub.git", false],
    ["C:\\hubs\\fleet.git", false],
    ["C:/hubs/fleet.git", false],
  ] as [string, boolean][])("%s: %s", (remote, ssh) => expect(overSsh(remote)).toBe(ssh));
});

/** What git prints when the server asks for ssh or https credentials it does not get, and the rest of its failures (real texts). */
const READ = "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.";
const KEY_FIX = "the server does not know this machine's key: add its public key to the hub as a deploy key with write access";
const CREDENTIALS_FIX =
  "git has no valid credentials for this host: store them with a credential helper (git config --global credential.helper store, or the OS keychain), never in the URL";
const PROTECTED_FIX = "machines push only the branch coord: let this machine's key push it (docs/security.md, Making main writable by people only)";
const GITOLITE_FIX = "the server's rules do not let this machine write that path: let it write the branch coord (docs/security.md, gitolite)";

describe("isReadRefusal: a fetch the server answered no to (never an outage)", () => {
  it.each([
    ["https without credentials (a 401 git could not answer)", "fatal: could not read Username for 'https://github.com': terminal prompts disabled", true],
    ["https with a wrong token", "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/org/fleet.git/'", true],
    [
      "GitLab's 401",
      "remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect\nfatal: Authentication failed for 'https://gitlab.com/org/fleet.git/'",
      true,
    ],
    ["a bare 401", "fatal: unable to access 'https://git.example.com/fleet.git/': The requested URL returned error: 401", true],
    ["a 403", "fatal: unable to access 'https://git.example.com/fleet.git/': The requested URL returned error: 403", true],
    ["GitHub over https, a token that may not see it", "remote: Repository not found.\nfatal: repository 'https://github.com/org/fleet.git/' not found", true],
    ["GitHub over ssh, a key that may not see it", `ERROR: Repository not found.\n${READ}`, true],
    ["an ssh key the server does not know", `git@github.com: Permission denied (publickey).\n${READ}`, true],
    ["ssh that tried a password too", `fleet@hub.example.com: Permission denied (publickey,password).\n${READ}`, true],
    ["gitolite's read rule", `FATAL: R any fleet alpha DENIED by fallthru\n(or you mis-spelled the reponame)\n${READ}`, true],
    ["connection refused", `ssh: connect to host hub port 22: Connection refused\n${READ}`, false],
    ["a name that does not resolve", "fatal: unable to access 'https://hub.invalid/fleet.git/': Could not resolve host: hub.invalid", false],
    ["a server error", "fatal: unable to access 'https://git.example.com/fleet.git/': The requested URL returned error: 500", false],
    ["a hub that is not there", `fatal: '/srv/hub.git' does not appear to be a git repository\n${READ}`, false],
    ["this machine's own files", "error: cannot open .git/FETCH_HEAD: Permission denied", false],
    ["a server that hung up", "fatal: the remote end hung up unexpectedly", false],
    ["a deadline", "git fetch: block timeout reached", false],
  ])("%s", (_what, text, refused) => expect(isReadRefusal(text)).toBe(refused));
});

describe("fixFor: what to do, where coord knows", () => {
  it.each([
    [
      "GitHub's protected branch",
      "To github.com:org/fleet.git\n!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)\nDone\nremote: error: GH006: Protected branch update failed for refs/heads/main.\nerror: failed to push some refs to 'github.com:org/fleet.git'",
      PROTECTED_FIX,
    ],
    [
      "GitLab's protected branch",
      " ! [remote rejected] main -> main (pre-receive hook declined)\nremote: GitLab: You are not allowed to push code to protected branches on this project.",
      PROTECTED_FIX,
    ],
    [
      "gitolite's per-path rule",
      "remote: FATAL: W VREF/NAME/coordination/messages/c_TO_a.md fleet c DENIED by VREF/NAME/\nTo hub:fleet\n ! [remote rejected] coord -> coord (hook declined)\nerror: failed to push some refs to 'hub:fleet'",
      GITOLITE_FIX,
    ],
    ["an ssh key the server does not know", `git@github.com: Permission denied (publickey).\n${READ}`, KEY_FIX],
    ["ssh that tried a password too", `fleet@hub: Permission denied (publickey,password).\n${READ}`, KEY_FIX],
    ["https without credentials", "fatal: could not read Username for 'https://github.com': terminal prompts disabled", CREDENTIALS_FIX],
    ["https with a wrong token", "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/org/fleet.git/'", CREDENTIALS_FIX],
    ["a bare 401", "fatal: unable to access 'https://h/fleet.git/': The requested URL returned error: 401", CREDENTIALS_FIX],
    [
      "a token without write access (403): no fix coord knows",
      "remote: Permission to org/fleet.git denied to bot.\nfatal: unable to access 'https://github.com/org/fleet.git/': The requested URL returned error: 403",
      undefined,
    ],
    ["a repository the key may not see", `ERROR: Repository not found.\n${READ}`, undefined],
    ["connection refused", `ssh: connect to host hub port 22: Connection refused\n${READ}`, undefined],
    ["someone pushed first", " ! [rejected]        coord -> coord (fetch first)\nerror: failed to push some refs to 'hub:fleet'", undefined],
    ["this machine's own files", "error: cannot open .git/FETCH_HEAD: Permission denied", undefined],
  ])("%s", (_what, text, fix) => expect(fixFor(text)).toBe(fix));

  it("isPushRefusal is as it was: refusals with a fix are refusals, an outage is not", () => {
    expect(isPushRefusal(" ! [remote rejected] main -> main (protected branch hook declined)")).toBe(true);
    expect(isPushRefusal(`git@github.com: Permission denied (publickey).\n${READ}`)).toBe(true);
    expect(isPushRefusal(`ssh: connect to host hub port 22: Connection refused\n${READ}`)).toBe(false);
  });
});
