// Machine commits Verified on GitHub (issue 68, item 10): a machine set to commit as an email a GitHub account has
// verified signs its commits with its key as that email, so that git (and GitHub, once the key is a signing key of
// that account) says Good for them; coord trust github prints the key and the command that registers it; coord trust
// signers prints the fleet's allowed signers, with which git says Good for every machine's commit.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, type Fleet, git, makeFleet, pushOrders } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("coord trust github", () => {
  it("commits as the email set, signed with the machine's key: git log --show-signature says Good for that email", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const alpha = fleet.machines.alpha!;
    const before = JSON.parse((await cli("trust", "github", "--json", "--dir", alpha)).out);
    expect(before).toMatchObject({ machine: "alpha", verified: { can: false, detail: expect.stringContaining("alpha@coord.invalid") } });
    const bad = await cli("trust", "github", "--email", "me at example.com", "--dir", alpha);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is not an email address.*nothing was changed/);

    const set = await cli("trust", "github", "--email", "me@example.com", "--dir", alpha);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toMatch(/^alpha commits as me@example\.com, signed with SHA256:/m);
    expect(set.out).toMatch(/gh api --method POST \/user\/ssh_signing_keys -f key='ssh-ed25519 [A-Za-z0-9+/=]+' -f title='coord alpha'/);
    expect(set.out).toMatch(/^Verified on GitHub: .*me@example\.com/m);
    const g = JSON.parse((await cli("trust", "github", "--json", "--dir", alpha)).out) as { publicKey: string };

    await pushOrders(fleet, [{ id: "hello", to: "alpha", run: "true" }]); // something to publish
    expect((await cli("sync", "--dir", alpha)).code).toBe(0);
    expect((await git(fleet.hubPath, "log", "-1", "--format=%ae %ce", "coord")).trim()).toBe("me@example.com me@example.com");
    // What a person puts in git's allowed signers (or GitHub checks against the account's signing keys).
    const signers = join(fleet.root, "allowed_signers");
    await writeFile(signers, `me@example.com namespaces="git" ${g.publicKey}\n`);
    const shown = await git(fleet.hubPath, "-c", `gpg.ssh.allowedSignersFile=${signers}`, "log", "-1", "--format=%G? %GS", "coord");
    expect(shown.trim()).toBe("G me@example.com");
    // The other machines read its files as before: they verify its key, whatever email its commits are by.
    expect((await cli("sync", "--dir", fleet.machines.beta!)).code).toBe(0);
    const seen = JSON.parse((await cli("status", "--json", "--dir", fleet.machines.beta!)).out);
    expect(seen.orders.hello).toMatchObject({ state: "completed" });
    expect(JSON.stringify(seen)).not.toMatch(/not verified|unsigned|refused/i);
    expect((await cli("doctor", "--dir", alpha)).out).toMatch(/github.*Verified on GitHub: its commits are signed and by me@example\.com/);
  });

  it("coord trust signers: with the fleet's allowed signers it prints, git says Good for each machine's commits, by the email each commits as", async () => {
    fleet = await makeFleet(["alpha", "beta", "gamma"]);
    const [alpha, beta, gamma] = [fleet.machines.alpha!, fleet.machines.beta!, fleet.machines.gamma!];
    expect((await cli("trust", "github", "--email", "beta@example.com", "--dir", beta)).code).toBe(0);
    await pushOrders(fleet, [{ id: "hello", to: "ALL", run: "true" }]);
    for (const dir of [beta, gamma, alpha]) expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect((await cli("sync", "--dir", alpha)).code).toBe(0); // beta's and gamma's newest files read

    const r = await cli("trust", "signers", "--dir", alpha);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["alpha@coord.invalid", "beta@example.com", "gamma@coord.invalid"]);
    const json = JSON.parse((await cli("trust", "signers", "--json", "--dir", alpha)).out) as { machine: string; key: string }[];
    const betaKey = JSON.parse((await cli("trust", "github", "--json", "--dir", beta)).out).publicKey as string;
    expect(
      json
        .find((s) => s.machine === "beta")
        ?.key.split(" ")
        .slice(0, 2),
    ).toEqual(betaKey.split(" ").slice(0, 2));

    const file = join(fleet.root, "fleet_signers");
    await writeFile(file, `${r.out}\n`);
    const log = await git(fleet.hubPath, "-c", `gpg.ssh.allowedSignersFile=${file}`, "log", "--format=%G? %GS %an", "coord");
    const byMachine = new Map<string, Set<string>>();
    for (const line of log.trim().split("\n")) {
      const [verdict, signer, by, machine] = line.split(" ");
      if (by !== "coord" || !machine) continue; // the hub's own first commits, a person's
      byMachine.set(machine, new Set([...(byMachine.get(machine) ?? []), `${verdict} ${signer}`]));
    }
    expect(byMachine.get("alpha")).toEqual(new Set(["G alpha@coord.invalid"]));
    expect(byMachine.get("beta")).toEqual(new Set(["G beta@example.com"]));
    expect(byMachine.get("gamma")).toEqual(new Set(["G gamma@coord.invalid"]));
    // And verify-commit of the tip, whoever pushed it last.
    await git(fleet.hubPath, "-c", `gpg.ssh.allowedSignersFile=${file}`, "verify-commit", "coord");
  });
});
