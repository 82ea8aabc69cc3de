import { Argument, type Command } from "commander";
import { trustAllow, trustGithub, trustKey, trustMachines, trustPin, trustRequire, trustRevoke, trustRotate, trustSigners, trustStatus, trustVerify } from "../../actions/trust.js";
import { EXIT } from "../../errors.js";
import { keyFingerprint } from "../../core/trust/trust.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";

/** coord trust: signed orders (docs/security.md). */
export function registerTrust(program: Command, io: Io): void {
  const trust = program.command("trust").description("signed orders: who may order this machine to run work, and what it verified");
  trust
    .command("status")
    .description("whether this machine requires signed orders, its allowed signers, the versions of the orders files it acts on")
    .addOption(dirOption())
    .option("--json", "print it as JSON")
    .action(async (o: { dir?: string; json?: boolean }) => {
      const s = await trustStatus(await resolveDir(o.dir));
      if (o.json) return io.out(JSON.stringify(s, null, 2));
      io.out(`signed orders: ${s.requireSignedOrders ? "required" : "not required (coord trust require on)"}`);
      io.out(`allowed signers (${s.allowedSigners}): ${s.signers.length ? "" : "none"}`);
      for (const x of s.signers) io.out(`  ${x.principal}  ${keyFingerprint(x.key)}${x.revoked ? "  (revoked)" : ""}`);
      if (s.revoked) io.out(`revoked keys: ${s.revoked}`);
      for (const a of s.accepted) io.out(`acting on ${a.path} of commit ${a.commit.slice(0, 12)}`);
      if (s.cannotSign) io.out(`this machine signs nothing: ${s.cannotSign}`);
      else if (s.signingKey) io.out(`this machine signs its commits with ${s.signingKey}${s.publicKey ? ` (${keyFingerprint(s.publicKey)})` : ""}`);
      else io.out("this machine signs nothing: it has no key (coord trust key gives it one)");
      io.out(`other machines' files: ${s.verifyMachines ? "read only as their signed commits wrote them" : "read as they are (coord trust machines on)"}`);
      if (s.verifyMachines && s.fleetKeys) io.out(`  their keys: ORDERS.json's "keys" (a machine not named there is not believed)`);
      for (const p of s.pinned) io.out(`  pinned ${p.machine}  ${keyFingerprint(p.key)}`);
    });
  trust
    .command("key [path]")
    .description(
      "sign this machine's commits with an SSH key (an ed25519 key made in .git/coord/machine_key unless a private key's path is given; coord init makes one); its file publishes the public key",
    )
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust key", "coord trust key ~/.ssh/coord_izzit7"))
    .action(async (path: string | undefined, o: { dir?: string }) => io.out(await trustKey(await resolveDir(o.dir), path)));
  trust
    .command("rotate [path]")
    .description(
      "change this machine's signing key as planned: a new key (made in .git/coord unless a private key's path is given), and a notice naming it signed with the old one, published with its next sync; machines that pinned the old key pin the new one when they read it",
    )
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust rotate && coord sync", "coord trust rotate ~/.ssh/coord_izzit7_2026"))
    .action(async (path: string | undefined, o: { dir?: string }) => io.out(await trustRotate(await resolveDir(o.dir), path)));
  trust
    .command("github")
    .description(
      "make this machine's commits show Verified on GitHub: --email sets the email they are by (one your account has verified); then its key and the gh command that registers it as a signing key of your account",
    )
    .option("--email <address>", "the email this machine's commits are by, from its next commit on")
    .option("--json", "print it as JSON")
    .addOption(dirOption())
    .addHelpText(
      "after",
      EXIT_CODES +
        examples(
          "coord trust github --email me@example.com   # then run the gh api command it prints, once per machine",
          "coord trust github   # what it commits as, and whether GitHub can show Verified",
        ),
    )
    .action(async (o: { email?: string; json?: boolean; dir?: string }) => {
      const g = await trustGithub(await resolveDir(o.dir), o.email);
      if (o.json) return io.out(JSON.stringify(g, null, 2));
      io.out(`${g.machine} commits as ${g.commitEmail ?? `${g.machine}@coord.invalid`}${g.publicKey ? `, signed with ${keyFingerprint(g.publicKey)}` : ", unsigned"}`);
      if (g.register) io.out(`register its key as a signing key of your GitHub account (once; gh logged in to that account):\n  ${g.register}`);
      io.out(g.verified.can ? `Verified on GitHub: ${g.verified.detail}` : `not Verified on GitHub: ${g.verified.detail}; ${g.verified.fix}`);
    });
  trust
    .command("signers")
    .description(
      "print the fleet's allowed signers file: each machine's key as this machine trusts it, by the email its commits are by; with it, git says Good for every machine's commit",
    )
    .option("--json", "print the machines, keys and emails as JSON")
    .addOption(dirOption())
    .addHelpText(
      "after",
      EXIT_CODES +
        examples(
          "coord trust signers > fleet_signers",
          "git -c gpg.ssh.allowedSignersFile=fleet_signers log --show-signature origin/coord",
          "git -c gpg.ssh.allowedSignersFile=fleet_signers verify-commit origin/coord",
        ),
    )
    .action(async (o: { json?: boolean; dir?: string }) => {
      const r = await trustSigners(await resolveDir(o.dir));
      io.out(o.json ? JSON.stringify(r.signers, null, 2) : r.text.trimEnd());
    });
  trust
    .command("machines")
    .description("read other machines' files (status, receipts, messages) only as their own signed commits wrote them (on), or as they are (off)")
    .addArgument(new Argument("<on|off>").choices(["on", "off"]))
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust key && coord trust machines on   # on every machine"))
    .action(async (value: string, o: { dir?: string }) => io.out(await trustMachines(await resolveDir(o.dir), value === "on")));
  trust
    .command("pin <machine> <key>")
    .description(
      'pin a machine\'s key (its public key, or a .pub file): after a planned key change, or instead of trusting its first one; where ORDERS.json has "keys", those are the pins and this is refused',
    )
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust pin soda-yeti soda-yeti.pub"))
    .action(async (machine: string, key: string, o: { dir?: string }) => io.out(await trustPin(await resolveDir(o.dir), machine, key)));
  trust
    .command("allow <principal> <key>")
    .description("accept orders signed by this SSH key (the public key, or the path of its .pub file); principal: who it is, e.g. an email")
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust allow alice@example.com ~/.ssh/id_ed25519.pub", 'coord trust allow ci@example.com "ssh-ed25519 AAAAC3Nz… ci"'))
    .action(async (principal: string, key: string, o: { dir?: string }) => io.out(await trustAllow(await resolveDir(o.dir), principal, key)));
  trust
    .command("revoke <principal>")
    .description("stop accepting a signer: its keys move to the revoked list, and commits signed by them are refused from now on")
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust revoke alice@example.com"))
    .action(async (principal: string, o: { dir?: string }) => io.out(await trustRevoke(await resolveDir(o.dir), principal)));
  trust
    .command("require")
    .description("act only on orders signed by an allowed signer (on), or on the repository as it is (off)")
    .addArgument(new Argument("<on|off>").choices(["on", "off"]))
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord trust allow alice@example.com ~/.ssh/id_ed25519.pub && coord trust require on"))
    .action(async (value: string, o: { dir?: string }) => io.out(await trustRequire(await resolveDir(o.dir), value === "on")));
  trust
    .command("verify")
    .description(
      "every commit that changed an orders file, or a machine's own file (its status, its messages) of a machine whose key is known here, newest first, and whether it was signed by whom it must be; exit 1 when one was not",
    )
    .addOption(dirOption())
    .option("--json", "print it as JSON: { commits, unchecked }")
    .addHelpText(
      "after",
      `${EXIT_CODES}\n     trust verify: 1 also when a commit was not signed by whom it must be (an orders file's allowed signers, a machine file's owner)${examples("coord trust verify", "coord trust verify --json | jq '.commits[] | select(.good | not)'")}`,
    )
    .action(async (o: { dir?: string; json?: boolean }) => {
      const { commits, unchecked } = await trustVerify(await resolveDir(o.dir));
      if (commits.some((c) => !c.good && !c.uncheckable)) process.exitCode = EXIT.FAILURE;
      if (o.json) return io.out(JSON.stringify({ commits, unchecked }, null, 2));
      for (const r of commits) io.out(`${r.good ? "OK  " : r.uncheckable ? "SKIP" : "FAIL"}  ${r.commit.slice(0, 12)}  ${r.path}  ${r.author}: ${r.why}`);
      if (!commits.length) io.out("no commit changed an orders file yet");
      if (unchecked.length) io.out(`not checked (no key of theirs known here: coord trust machines on pins it at the next sync): ${unchecked.join(", ")}`);
    });
}
