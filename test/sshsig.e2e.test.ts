// SSH signatures made and checked in process (src/core/trust/sshsig.ts) agree with ssh-keygen and git: a key coord
// makes is one ssh-keygen reads, a signature each makes the other accepts, and a commit coord signs is one
// git calls good ("G"), while anything changed in it is bad for both; ssh-keygen's RSA and ECDSA signatures are
// judged here as ssh-keygen judges them.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { newKeyPair, readSigningKey, sshSign, sshSignatureKey, sshVerify } from "../src/core/trust/sshsig.js";
import { commitBody, commitSignature, ObjectWriter, signedCommitBody } from "../src/git/objects.js";
import { Repo } from "../src/git/git.js";
import { commitVerdict, plainRevoked, plainSigners } from "../src/git/signatures.js";
import { git, hasSshKeygen, sshKey, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const run = promisify(execFile);
const haveSshKeygen = await hasSshKeygen();

/** ssh-keygen's verdict on `signature` of `message` by `principal`'s key in `signers`: its exit code. */
async function keygenVerifies(dir: string, signers: string, principal: string, namespace: string, message: string, signature: string): Promise<boolean> {
  await writeFile(join(dir, "msg.sig"), signature);
  const child = execFile("ssh-keygen", ["-Y", "verify", "-f", signers, "-I", principal, "-n", namespace, "-s", join(dir, "msg.sig")]);
  // ssh-keygen may refuse a signature before it reads the message (as git met it: SIGPIPE): no error of this test's.
  child.stdin!.on("error", () => {});
  child.stdin!.end(message);
  return new Promise((resolve) => child.on("close", (code) => resolve(code === 0)));
}

describe.skipIf(!haveSshKeygen)("SSH signatures in process", () => {
  it("makes keys ssh-keygen reads, and signatures each side accepts from the other", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    const made = newKeyPair("coord m1");
    await writeFile(join(dir, "coord_key"), made.privateKey, { mode: 0o600 });
    // ssh-keygen derives the same public key from the private file coord wrote.
    const { stdout } = await run("ssh-keygen", ["-y", "-f", join(dir, "coord_key")]);
    expect(stdout.trim().split(" ").slice(0, 2).join(" ")).toBe(made.publicKey.split(" ").slice(0, 2).join(" "));
    const key = readSigningKey(made.privateKey)!;
    expect(key.publicKey).toBe(made.publicKey.split(" ").slice(0, 2).join(" "));

    // coord signs, ssh-keygen verifies; a changed message or namespace does not verify.
    await writeFile(join(dir, "signers"), `m1 ${key.publicKey}\n`);
    const sig = sshSign(key, "git", "hello\n");
    expect(await keygenVerifies(dir, join(dir, "signers"), "m1", "git", "hello\n", sig)).toBe(true);
    expect(await keygenVerifies(dir, join(dir, "signers"), "m1", "git", "hello!\n", sig)).toBe(false);
    expect(await keygenVerifies(dir, join(dir, "signers"), "m1", "other", "hello\n", sig)).toBe(false);

    // ssh-keygen signs with a key it made, coord reads that key and verifies the signature.
    const theirs = await sshKey(dir, "theirs");
    await writeFile(join(dir, "note"), "a note\n");
    await run("ssh-keygen", ["-q", "-Y", "sign", "-f", theirs, "-n", "git", join(dir, "note")]);
    const theirSig = await readFile(join(dir, "note.sig"), "utf8");
    const theirPub = (await readFile(`${theirs}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
    expect(sshVerify(theirSig, "git", "a note\n")).toEqual({ key: theirPub, good: true });
    expect(sshVerify(theirSig, "git", "a note!\n")).toEqual({ key: theirPub, good: false });
    expect(sshVerify(theirSig, "coord-key-notice", "a note\n")).toEqual({ key: theirPub, good: false });
    // A key ssh-keygen made reads as coord's own do, and signs alike.
    const read = readSigningKey(await readFile(theirs, "utf8"))!;
    expect(read.publicKey).toBe(theirPub);
    expect(sshSign(read, "git", "x")).toBe(sshSign(read, "git", "x")); // ed25519 is deterministic
    expect(sshVerify(sshSign(read, "git", "x"), "git", "x")).toEqual({ key: theirPub, good: true });
  });

  it("checks RSA and ECDSA signatures ssh-keygen makes as ssh-keygen does: good, another message, another namespace", async () => {
    const dir = await tempDir();
    const message = "publish: m1\n";
    for (const [type, bits] of [
      ["rsa", "2048"],
      ["rsa", "3072"],
      ["ecdsa", "256"],
      ["ecdsa", "384"],
      ["ecdsa", "521"],
    ] as const) {
      const file = join(dir, `${type}${bits}`);
      await run("ssh-keygen", ["-q", "-t", type, "-b", bits, "-N", "", "-f", file]);
      const pub = (await readFile(`${file}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
      await writeFile(join(dir, "signers"), `m1 ${pub}\n`);
      await writeFile(join(dir, `${type}${bits}.txt`), message);
      await run("ssh-keygen", ["-q", "-Y", "sign", "-f", file, "-n", "git", join(dir, `${type}${bits}.txt`)]);
      const signature = await readFile(join(dir, `${type}${bits}.txt.sig`), "utf8");
      for (const [text, namespace] of [
        [message, "git"],
        ["publish: m2\n", "git"],
        [message, "file"],
      ] as const) {
        const here = sshVerify(signature, namespace, text);
        expect(here, `${type} ${bits} ${namespace} ${text}`).toEqual({ key: pub, good: await keygenVerifies(dir, join(dir, "signers"), "m1", namespace, text, signature) });
      }
      expect(sshVerify(signature, "git", message)?.good, `${type} ${bits}`).toBe(true);
    }
  });

  it("judges as ssh-keygen does the forms it refuses once it read the key; leaves a key under a passphrase and an RSA key to sign to it", {
    timeout: patient(30_000),
  }, async () => {
    const dir = await tempDir();
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret words", "-f", join(dir, "locked")]);
    expect(readSigningKey(await readFile(join(dir, "locked"), "utf8"))).toBeUndefined();
    await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", join(dir, "rsa")]);
    expect(readSigningKey(await readFile(join(dir, "rsa"), "utf8"))).toBeUndefined();
    const rsaPub = (await readFile(join(dir, "rsa.pub"), "utf8")).trim().split(" ").slice(0, 2).join(" ");
    await writeFile(join(dir, "note"), "n\n");
    await run("ssh-keygen", ["-q", "-Y", "sign", "-f", join(dir, "rsa"), "-n", "git", join(dir, "note")]);
    const rsaSig = await readFile(join(dir, "note.sig"), "utf8");
    expect(sshVerify(rsaSig, "git", "n\n")?.good).toBe(true);
    expect(readSigningKey("not a key")).toBeUndefined();
    expect(sshVerify("not a signature", "git", "n")).toBeUndefined();
    const mine = readSigningKey(newKeyPair("m").privateKey)!;
    await writeFile(join(dir, "signers"), `m ${mine.publicKey}\nr ${rsaPub}\n`);
    const good = sshSign(mine, "git", "n\n");
    expect(sshVerify(good, "git", "n\n")?.good).toBe(true);
    // Anything around the armor, or not base64: not an SSH signature here.
    expect(sshVerify(`text before\n${good}`, "git", "n\n")).toBeUndefined();
    expect(sshVerify(good.replace("\n", "\n!"), "git", "n\n")).toBeUndefined();
    // Found in attack: forms git left to ssh-keygen one process each (a flood of them, carrying an allowed signer's own
    // key, took a sync past git's timeout), judged here as ssh-keygen judges them.
    const blob = (armored: string) => Buffer.from(armored.trim().split("\n").slice(1, -1).join(""), "base64");
    const rearmor = (b: Buffer) => `-----BEGIN SSH SIGNATURE-----\n${b.toString("base64")}\n-----END SSH SIGNATURE-----\n`;
    const str = (b: Buffer | string) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(b));
      return Buffer.concat([length, Buffer.from(b)]);
    };
    /** The fields of an SSHSIG blob, and one made of them. */
    const fields = (b: Buffer) => {
      const at = [6 + 4];
      const out: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const n = b.readUInt32BE(at[0]!);
        out.push(b.subarray(at[0]! + 4, at[0]! + 4 + n));
        at[0]! += 4 + n;
      }
      return { version: b.readUInt32BE(6), pub: out[0]!, ns: out[1]!, reserved: out[2]!, hash: out[3]!, sig: out[4]! };
    };
    const made = (f: ReturnType<typeof fields>) => {
      const v = Buffer.alloc(4);
      v.writeUInt32BE(f.version);
      return Buffer.concat([Buffer.from("SSHSIG"), v, str(f.pub), str(f.ns), str(f.reserved), str(f.hash), str(f.sig)]);
    };
    for (const [name, armored] of [
      ["ed25519", good],
      ["rsa", rsaSig],
    ] as const) {
      const f = fields(blob(armored));
      const sigFields = (() => {
        const n = f.sig.readUInt32BE(0);
        return { type: f.sig.subarray(4, 4 + n), bytes: f.sig.subarray(8 + n) };
      })();
      const cases: [string, Buffer][] = [
        ["as made", made(f)],
        ["version 2", made({ ...f, version: 2 })],
        ["version 0", made({ ...f, version: 0 })],
        ["a reserved field", made({ ...f, reserved: Buffer.from("x") })],
        ["a byte after it", Buffer.concat([made(f), Buffer.from([0])])],
        ["cut short", made(f).subarray(0, made(f).length - 3)],
        ["hash sha1", made({ ...f, hash: Buffer.from("sha1") })],
        ["a byte after the signature's bytes", made({ ...f, sig: Buffer.concat([f.sig, Buffer.from([0])]) })],
        ["another signature type", made({ ...f, sig: Buffer.concat([str(name === "rsa" ? "ssh-rsa" : "ssh-ed448"), str(sigFields.bytes)]) })],
      ];
      for (const [what, b] of cases) {
        const keygen = await keygenVerifies(dir, join(dir, "signers"), name === "rsa" ? "r" : "m", "git", "n\n", rearmor(b));
        expect(sshVerify(rearmor(b), "git", "n\n"), `${name}: ${what}`).toEqual({ key: name === "rsa" ? rsaPub : mine.publicKey, good: keygen });
      }
    }
  });

  it("signs a commit git calls good, and a commit changed after signing is bad for git and here", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet");
    const made = newKeyPair("coord m1");
    const key = readSigningKey(made.privateKey)!;
    await writeFile(join(dir, "signers"), `m1 ${key.publicKey}\n`);
    const writer = new ObjectWriter(join(dir, ".git", "objects"));
    const tree = await writer.write("tree", Buffer.alloc(0));
    const author = { name: "coord m1", email: "m1@coord.invalid" };
    const body = commitBody(tree, undefined, author, "publish: m1\n\nCoord-Machine: m1\n", new Date(1_700_000_000_000));
    const signed = await writer.write("commit", signedCommitBody(body, sshSign(key, "git", body)));
    const forged = body.replace("publish: m1", "publish: m2");
    const tampered = await writer.write("commit", signedCommitBody(forged, sshSign(key, "git", body)));
    const verdict = async (commit: string) => (await git(dir, "-c", `gpg.ssh.allowedSignersFile=${join(dir, "signers")}`, "log", "-1", "--format=%G?%x1f%GS", commit)).trim();
    expect(await verdict(signed)).toBe("G\x1fm1");
    expect(await verdict(tampered)).toBe("B\x1f");
    // What git reads as payload and signature is what was signed, and checks the same here.
    for (const [commit, good] of [
      [signed, true],
      [tampered, false],
    ] as const) {
      const raw = Buffer.from((await run("git", ["-C", dir, "cat-file", "commit", commit], { encoding: "buffer" })).stdout);
      const s = commitSignature(raw)!;
      expect(sshVerify(s.signature, "git", s.payload)).toEqual({ key: key.publicKey, good });
    }
    // git's own signed commit (commit-tree -S through ssh-keygen) reads the same way.
    const keyFile = join(dir, "key");
    await writeFile(keyFile, made.privateKey, { mode: 0o600 });
    const theirs = (
      await run("git", [
        "-C",
        dir,
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingKey=${keyFile}`,
        "-c",
        "user.name=p",
        "-c",
        "user.email=p@x",
        "commit-tree",
        "-S",
        tree,
        "-m",
        "by git",
      ])
    ).stdout.trim();
    const raw = Buffer.from((await run("git", ["-C", dir, "cat-file", "commit", theirs], { encoding: "buffer" })).stdout);
    expect(sshVerify(commitSignature(raw)!.signature, "git", commitSignature(raw)!.payload)).toEqual({ key: key.publicKey, good: true });
    expect(commitSignature(Buffer.from(body))).toBeUndefined();
  });

  it("gives git's verdict on a commit: good by a listed key, good by another, bad, unsigned, and leaves the rest to git", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet");
    const [m1, m2] = [readSigningKey(newKeyPair("m1").privateKey)!, readSigningKey(newKeyPair("m2").privateKey)!];
    const stranger = readSigningKey(newKeyPair("x").privateKey)!;
    const signersText = `# pins\nm1 ${m1.publicKey}\nm2 ${m2.publicKey} coord m2\n`;
    await writeFile(join(dir, "signers"), signersText);
    const signers = plainSigners(signersText)!;
    const writer = new ObjectWriter(join(dir, ".git", "objects"));
    const tree = await writer.write("tree", Buffer.alloc(0));
    const body = (n: number) => commitBody(tree, undefined, { name: "coord m1", email: "m1@coord.invalid" }, `publish ${n}\n`, new Date(1_700_000_000_000 + n * 1000));
    const rsa = join(dir, "rsa");
    await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa]);
    await writeFile(join(dir, "p6"), body(6));
    await run("ssh-keygen", ["-q", "-Y", "sign", "-f", rsa, "-n", "git", join(dir, "p6")]);
    const commits = [
      await writer.write("commit", signedCommitBody(body(1), sshSign(m1, "git", body(1)))), // G m1
      await writer.write("commit", signedCommitBody(body(2), sshSign(m2, "git", body(2)))), // G m2
      await writer.write("commit", signedCommitBody(body(3), sshSign(stranger, "git", body(3)))), // U
      await writer.write("commit", signedCommitBody(body(4), sshSign(m1, "git", body(3)))), // B: another payload
      await writer.write("commit", body(5)), // N
      await writer.write("commit", signedCommitBody(body(6), await readFile(join(dir, "p6.sig"), "utf8"))), // an RSA key not listed: U
      await writer.write("commit", signedCommitBody(body(7), sshSign(m1, "other", body(7)))), // another namespace: B
    ];
    const raw = async (commit: string) => Buffer.from((await run("git", ["-C", dir, "cat-file", "commit", commit], { encoding: "buffer" })).stdout);
    const byGit = async (commit: string, file = "signers") =>
      (await git(dir, "-c", `gpg.ssh.allowedSignersFile=${join(dir, file)}`, "log", "-1", "--format=%G?%x1f%GS", commit)).trim();
    for (const commit of commits) {
      const here = commitVerdict(await raw(commit), signers);
      expect(`${here!.status}\x1f${here!.signer}`).toBe(await byGit(commit));
    }
    // An RSA key that is listed: good, as git says.
    const rsaPub = (await readFile(`${rsa}.pub`, "utf8")).trim().split(" ").slice(0, 2).join(" ");
    const withRsa = `${signersText}m3 ${rsaPub}\n`;
    await writeFile(join(dir, "signers-rsa"), withRsa);
    expect(commitVerdict(await raw(commits[5]!), plainSigners(withRsa)!)).toEqual({ status: "G", signer: "m3" });
    expect(await byGit(commits[5]!, "signers-rsa")).toBe("G\x1fm3");
    // Found in attack: a signature by a key not listed is never good, and nothing is checked for it (a pusher's key
    // can be made costly to check). git calls this bad one "B"; here it is "U": neither counts.
    const forged = await writer.write("commit", signedCommitBody(body(8), await readFile(join(dir, "p6.sig"), "utf8")));
    expect(commitVerdict(await raw(forged), signers)).toEqual({ status: "U", signer: "" });
    expect(await byGit(forged)).toBe("B\x1f");
    // Found in attack: a signature by a key of a type not checked here (a security key's) that no line lists is never
    // good, and ssh-keygen is not started for it. git calls this bad one "B"; here it is "U": neither counts.
    const str = (b: Buffer | string) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(Buffer.byteLength(b));
      return Buffer.concat([length, Buffer.from(b)]);
    };
    const skType = "sk-ssh-ed25519@openssh.com";
    const skPub = Buffer.concat([str(skType), str(Buffer.alloc(32, 7)), str("ssh:")]);
    const skSig = Buffer.concat([str(skType), str(Buffer.alloc(64, 1)), Buffer.from([1, 0, 0, 0, 1])]);
    const sshsig = Buffer.concat([Buffer.from("SSHSIG"), Buffer.from([0, 0, 0, 1]), str(skPub), str("git"), str(""), str("sha512"), str(skSig)]);
    const skArmored = `-----BEGIN SSH SIGNATURE-----\n${sshsig.toString("base64")}\n-----END SSH SIGNATURE-----`;
    const sk = await writer.write("commit", signedCommitBody(body(9), skArmored));
    expect(sshSignatureKey(skArmored)).toBe(`${skType} ${skPub.toString("base64")}`);
    expect(commitVerdict(await raw(sk), signers)).toEqual({ status: "U", signer: "" });
    expect(await byGit(sk)).toMatch(/^[BUE]\x1f$/);
    expect(sshSignatureKey(await readFile(join(dir, "p6.sig"), "utf8"))).toBe(rsaPub);
    // Found in attack: a signature that is no SSH one starts no git: an OpenPGP one is "N", as git says (its program
    // is false here), and one git cannot classify, on which git fails, cannot be checked ("E").
    const pgp = await writer.write("commit", signedCommitBody(body(10), "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----"));
    expect(commitVerdict(await raw(pgp), signers)).toEqual({ status: "N", signer: "" });
    const asCoordAsks = ["-c", "gpg.openpgp.program=false", "-c", "gpg.x509.program=false", "-c", `gpg.ssh.allowedSignersFile=${join(dir, "signers")}`];
    expect((await git(dir, ...asCoordAsks, "log", "-1", "--format=%G?%x1f%GS", pgp)).trim()).toBe("N\x1f");
    // Found in attack: git's own tests of the armor. Anything before it: git fails ("E" here); a CR after the BEGIN
    // line: "B" for git, as here.
    const m1Signed = sshSign(m1, "git", body(12));
    const spaced = await writer.write("commit", signedCommitBody(body(12), ` ${m1Signed}`));
    expect(commitVerdict(await raw(spaced), signers)).toEqual({ status: "E", signer: "" });
    await expect(byGit(spaced)).rejects.toThrow();
    const crlf = await writer.write("commit", signedCommitBody(body(12), m1Signed.replace("-----\n", "-----\r\n")));
    expect(commitVerdict(await raw(crlf), signers)).toEqual({ status: "B", signer: "" });
    expect(await byGit(crlf)).toBe("B\x1f");
    const junk = await writer.write("commit", signedCommitBody(body(11), "hello"));
    expect(commitVerdict(await raw(junk), signers)).toEqual({ status: "E", signer: "" });
    await expect(byGit(junk)).rejects.toThrow(/bad\/incompatible signature/);
    // A revocation file of plain keys (as coord trust revoke writes it): a listed key it names is bad, as git says;
    // the others are as before. (Found in attack: with one, every signature went to ssh-keygen, one process each.)
    const revokedText = `# revoked\n${m1.publicKey} m1's lost laptop\n${rsaPub}\n`;
    await writeFile(join(dir, "revoked"), revokedText);
    const revoked = plainRevoked(revokedText)!;
    expect(revoked).toEqual(new Set([m1.publicKey, rsaPub]));
    for (const commit of [...commits, forged]) {
      const here = commitVerdict(await raw(commit), plainSigners(withRsa)!, revoked);
      const byGitRevoked = (
        await git(
          dir,
          "-c",
          `gpg.ssh.allowedSignersFile=${join(dir, "signers-rsa")}`,
          "-c",
          `gpg.ssh.revocationFile=${join(dir, "revoked")}`,
          "log",
          "-1",
          "--format=%G?%x1f%GS",
          commit,
        )
      ).trim();
      expect(`${here!.status}\x1f${here!.signer}`, commit).toBe(byGitRevoked);
    }
    expect(commitVerdict(await raw(commits[0]!), signers, revoked)).toEqual({ status: "B", signer: "" });
    // Anything but plain keys (a KRL, a principal before the key) is ssh-keygen's, which then refuses every signature.
    expect(plainRevoked(`m1 ${m1.publicKey}\n`)).toBeUndefined();
    // Found in attack: a key written otherwise than ssh-keygen writes it is the same key to ssh-keygen (a zero byte
    // before an RSA modulus), or a line it cannot read (a BOM, a no-break space, a type its data does not name, bytes
    // after the padding): the file is git's to read then.
    const [rsaType, rsaData] = rsaPub.split(" ") as [string, string];
    const wire = Buffer.from(rsaData, "base64");
    const eLength = wire.readUInt32BE(4 + rsaType.length);
    const nAt = 4 + rsaType.length + 4 + eLength;
    const n = wire.subarray(nAt + 4, nAt + 4 + wire.readUInt32BE(nAt));
    const nLength = Buffer.alloc(4);
    nLength.writeUInt32BE(n.length + 1);
    const padded = Buffer.concat([wire.subarray(0, nAt), nLength, Buffer.from([0]), n]).toString("base64");
    expect(plainRevoked(`${rsaType} ${padded}\n`)).toBeUndefined();
    expect(plainRevoked(`\uFEFF${m1.publicKey}\n`)).toBeUndefined();
    expect(plainRevoked(`${m1.publicKey.replace(" ", "\u00A0")}\n`)).toBeUndefined();
    expect(plainRevoked(`ssh-rsa ${m1.publicKey.split(" ")[1]}\n`)).toBeUndefined();
    expect(plainRevoked(`${rsaType} ${rsaData.replace(/=*$/, "")}AB==\n`)).toBeUndefined();
    expect(plainRevoked(`${m1.publicKey}\r\n\t${rsaPub} a comment\n`)).toEqual(new Set([m1.publicKey, rsaPub]));
    expect(plainRevoked("SSHKRL\0binary")).toBeUndefined();
    expect(plainRevoked("")).toEqual(new Set());
    expect(plainRevoked(`${m1.publicKey}\r\n\r\n`)).toBeUndefined(); // a blank line with a CR: ssh-keygen refuses every signature
    expect(sshSignatureKey(sshSign(m1, "git", "x"))).toBe(m1.publicKey);
    expect(sshSignatureKey("not a signature")).toBeUndefined();
    expect(commitVerdict(Buffer.from(body(1)), signers)).toEqual({ status: "N", signer: "" });
    // Files ssh-keygen reads differently than a plain list are left to it.
    expect(plainSigners(`m1 namespaces="git" ${m1.publicKey}\n`)).toBeUndefined();
    expect(plainSigners(`m1,m2 ${m1.publicKey}\n`)).toBeUndefined();
    expect(plainSigners(`*@example.com ${m1.publicKey}\n`)).toBeUndefined();
    expect(plainSigners(`m1 ${m1.publicKey}\nm2 ${m1.publicKey}\n`)).toBeUndefined();
    expect(plainSigners("")).toEqual(new Map());
  });

  it("found in attack: a commit git fails on is one that cannot be checked, not a failure of every commit asked with it", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet");
    const m1 = readSigningKey(newKeyPair("m1").privateKey)!;
    // Options in the signers file: every signature is git's to check (no plain signers file here).
    const signers = join(dir, "signers");
    await writeFile(signers, `m1 namespaces="git" ${m1.publicKey}\n`);
    const writer = new ObjectWriter(join(dir, ".git", "objects"));
    const tree = await writer.write("tree", Buffer.alloc(0));
    const body = (n: number, message: string) => commitBody(tree, undefined, { name: "p", email: "p@x" }, message, new Date(1_700_000_000_000 + n * 1000));
    const good = await writer.write("commit", signedCommitBody(body(1, "good\n"), sshSign(m1, "git", body(1, "good\n"))));
    // A signature of a version ssh-keygen does not know, on a message of over 64 KiB: ssh-keygen exits before reading
    // it, and git dies of SIGPIPE.
    const blob = Buffer.from(sshSign(m1, "git", "x").trim().split("\n").slice(1, -1).join(""), "base64");
    blob.writeUInt32BE(2, 6);
    const v2 = `-----BEGIN SSH SIGNATURE-----\n${blob.toString("base64")}\n-----END SSH SIGNATURE-----`;
    const long = `poison\n\n${"x".repeat(200_000)}\n`;
    const poison = await writer.write("commit", signedCommitBody(body(2, long), v2));
    const repo = new Repo(dir, join(dir, ".git"));
    const verdicts = await repo.verdicts([good, poison], { allowed: signers });
    expect(verdicts.get(good)).toEqual({ status: "G", signer: "m1" });
    expect(["B", "E"]).toContain(verdicts.get(poison)?.status);
  });

  it("found in review: a root commit (no fast writer) is signed in process too, and git calls it good", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet");
    const made = newKeyPair("coord m1");
    await writeFile(join(dir, "key"), made.privateKey, { mode: 0o600 });
    await writeFile(join(dir, "signers"), `m1 ${readSigningKey(made.privateKey)!.publicKey}\n`);
    const repo = new Repo(dir, join(dir, ".git"));
    repo.signingKey = join(dir, "key");
    const root = await repo.commitFiles(undefined, new Map([["a.txt", "a\n"]]), { name: "coord m1", email: "m1@coord.invalid" }, "root\n");
    expect((await git(dir, "-c", `gpg.ssh.allowedSignersFile=${join(dir, "signers")}`, "log", "-1", "--format=%G?%x1f%GS", root)).trim()).toBe("G\x1fm1");
  });
});
