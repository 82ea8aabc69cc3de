// Whether a machine's commits can show Verified on GitHub, and the command that registers its key (core/trust/github.ts).
import { describe, expect, it } from "vitest";
import { commitEmailProblem, defaultCommitEmail, fleetSignersText, registerCommand, verifiedVerdict } from "../../../src/core/trust/github.js";

const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs1v2bdV6k0yqUZGfVrQKc2b1i3ZVn2Uq7vZbYc5x9T";

describe("Verified on GitHub", () => {
  it.each([
    ["no key: unsigned", undefined, "me@example.com", false, /not signed/],
    ["signed, the default email no one verifies", key, undefined, false, /izzit7@coord\.invalid/],
    ["signed, an .invalid email set by hand", key, "x@coord.invalid", false, /x@coord\.invalid/],
    ["signed, an email an account can verify", key, "me@example.com", true, /once this machine's key is a signing key of the account that verified me@example\.com/],
  ] as const)("%s", (_w, publicKey, commitEmail, can, detail) => {
    const v = verifiedVerdict({ machine: "izzit7", publicKey, commitEmail });
    expect(v.can).toBe(can);
    expect(v.detail).toMatch(detail);
  });

  it("the default email is the machine's at coord.invalid", () => expect(defaultCommitEmail("izzit7")).toBe("izzit7@coord.invalid"));

  it.each([
    ["me@example.com", undefined],
    ["first.last+coord@mail.example.org", undefined],
    ["no at sign", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["a b@example.com", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["<me@example.com>", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["me@example.com\nEvil: x", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    // What an allowed signers file reads as a pattern or a list of principals (attack finding): never an email here.
    ["*@*", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["x,!alice@corp.com", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ['"a@b"cert-authority', "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["me@host", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["me@-host.com", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["me@host..com", "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)"],
    ["alpha@coord.invalid", "is at an .invalid domain, nobody's (coord's own default); give an email your GitHub account verified"],
    ["ALPHA@COORD.INVALID", "is at an .invalid domain, nobody's (coord's own default); give an email your GitHub account verified"],
    [`${"a".repeat(250)}@x.io`, "is longer than 254 characters"],
  ])("%j: %s", (email, problem) => expect(commitEmailProblem(email)).toBe(problem));

  it("the gh command names the key (type and data, no comment) and the machine", () => {
    expect(registerCommand("izzit7", `${key} coord izzit7\n`)).toBe(`gh api --method POST /user/ssh_signing_keys -f key='${key}' -f title='coord izzit7'`);
  });
});

describe("the fleet's allowed signers", () => {
  const k = (n: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${n.repeat(43)}`;
  it("one line a machine, sorted, by the email its commits are by; a comment for one that signs nothing; the key's own comment dropped", () => {
    const text = fleetSignersText([
      { machine: "soda-yeti", key: `${k("B")} pat@laptop`, email: "pat@example.com" },
      { machine: "izzit7", key: k("A") },
      { machine: "machine-2", key: undefined },
    ]);
    expect(text.split("\n")).toEqual([
      expect.stringMatching(/^# The fleet's machines/),
      `izzit7@coord.invalid namespaces="git" ${k("A")} coord izzit7`,
      "# machine-2: its commits are not signed",
      `pat@example.com namespaces="git" ${k("B")} coord soda-yeti`,
      "",
    ]);
  });

  it("another machine's own address is left out with why: its commits would read as that machine's (attack finding)", () => {
    const text = fleetSignersText([
      { machine: "alpha", key: k("A") },
      { machine: "beta", key: k("B"), email: "alpha@coord.invalid" },
    ]);
    expect(text).toContain(`alpha@coord.invalid namespaces="git" ${k("A")} coord alpha`);
    expect(text).toContain('# beta: it says it commits as "alpha@coord.invalid", no address of its own; left out');
    expect(text).not.toContain(k("B"));
  });

  it.each(["ALPHA@COORD.INVALID", "alpha@coord.invalid.", "alpha@Coord.Invalid", "me@x.invalid"])(
    "%s, in any case or with a trailing dot, is no address of a machine's own (re-check finding)",
    (email) => {
      const text = fleetSignersText([{ machine: "beta", key: k("B"), email }]);
      expect(text).toContain("# beta: it says it commits as");
      expect(text).not.toContain(k("B"));
    },
  );

  it("an email two machines say they commit as is said so above the lines (each machine's word)", () => {
    const text = fleetSignersText([
      { machine: "beta", key: k("B"), email: "pat@example.com" },
      { machine: "alpha", key: k("A"), email: "Pat@example.com" },
    ]);
    expect(text).toContain("# pat@example.com: machines alpha, beta each say they commit as it (each machine's word)");
    expect(text).toContain(`Pat@example.com namespaces="git" ${k("A")} coord alpha`);
  });

  it("the same fleet in any order: the same text", () => {
    const a = [
      { machine: "b", key: k("B") },
      { machine: "a", key: k("A") },
    ];
    expect(fleetSignersText(a)).toBe(fleetSignersText([...a].reverse()));
  });
});
