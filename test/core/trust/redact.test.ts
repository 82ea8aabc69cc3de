// Redaction: every rule of src/core/trust/redact.ts, table-driven, and the secret
// values of a task's env whatever their length or line endings.
import { describe, expect, it } from "vitest";
import { outputTail, redact, REDACTED, RULES, secretForms } from "../../../src/core/trust/redact.js";
import { redactClipped } from "../../../src/core/trust/redact.js";
import { patient } from "../../patience.js";

const R = REDACTED;
const ghp = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

describe("redact: known secret shapes", () => {
  const cases: [rule: string, input: string, expected: string][] = [
    ["URL userinfo", "could not reach https://user:tok3n@example.com/x.git", `could not reach https://${R}@example.com/x.git`],
    ["URL userinfo", `fatal: unable to access 'https://x:${ghp}@127.0.0.1:9/x.git/'`, `fatal: unable to access 'https://${R}@127.0.0.1:9/x.git/'`],
    ["URL userinfo", "https://onlyatoken@github.com/me/x.git", `https://${R}@github.com/me/x.git`],
    ["URL userinfo", "DATABASE_URL=postgres://app:s3cr3t@db:5432/prod", `DATABASE_URL=postgres://${R}@db:5432/prod`],
    ["URL userinfo", "mysql://root:pw@localhost/db and redis://:pw@cache:6379", `mysql://${R}@localhost/db and redis://${R}@cache:6379`],
    ["URL userinfo", "ssh://git@github.com/me/x.git", "ssh://git@github.com/me/x.git"],
    ["URL userinfo", "git@github.com:me/x.git", "git@github.com:me/x.git"],
    ["GitHub token", `token ${ghp} done`, `token ${R} done`],
    ["GitHub token", ["gho_", "ghu_", "ghs_", "ghr_"].map((p) => p + "x".repeat(36)).join(" "), [R, R, R, R].join(" ")],
    ["GitHub fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", R],
    ["GitLab token", "glpat-abcdefghij0123456789", R],
    ["npm token", "//registry.npmjs.org/:_authToken npm_" + "a".repeat(36), `//registry.npmjs.org/:_authToken ${R}`],
    ["Slack token", "xoxb-1234567890-abcdef xoxa-2-abcdefghij xoxp-1234567890 xoxr-abcdefghijk", `${R} ${R} ${R} ${R}`],
    ["AWS access key id", "key AKIAIOSFODNN7EXAMPLE here ASIAABCDEFGHIJKLMNOP", `key ${R} here ${R}`],
    ["sk- API key", "sk-proj-abcdefghijklmnopqrstuvwxyz", R],
    ["JSON web token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", R],
    ["Bearer token", "Authorization: Bearer abc.def-ghi_jkl", `Authorization: Bearer ${R}`],
    ["Basic credentials", "authorization: basic dXNlcjpwYXNz", `authorization: basic ${R}`],
    ["secret pair", "password=hunter2 next", `password=${R} next`],
    ["secret pair", '{"token": "abc123", "x": 1}', `{"token": "${R}", "x": 1}`],
    ["secret pair", "export GH_TOKEN=abc API_KEY: xyz db_password = 'p w'", `export GH_TOKEN=${R} API_KEY: ${R} db_password = '${R} w'`],
    ["secret pair", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `aws_secret_access_key = ${R}`],
    ["secret pair", "https://h/x?access_token=abc&x=1", `https://h/x?access_token=${R}&x=1`],
    ["private key block", "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\nAAAA\n-----END OPENSSH PRIVATE KEY-----\nb", `a\n${R}\nb`],
    ["private key block", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n(cut)", R],
    ["private key block", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----", R],
  ];
  it.each(cases)("%s: %j", (rule, input, expected) => {
    expect(RULES.map((r) => r.name)).toContain(rule);
    expect(redact(input)).toBe(expected);
  });

  it("leaves ordinary text alone", () => {
    const texts = [
      "npm test\n✓ 12 passed (ghp is a word), AKIA short, sk-short, Bearer x\n",
      "could not reach the remote ssh://git@example.com:2222/fleet.git: Connection refused",
      "the token was refused; password prompts are disabled",
      "Basic setup done; secret santa",
    ];
    for (const t of texts) expect(redact(t)).toBe(t);
  });

  it("is idempotent", () => {
    for (const input of [`password=${ghp}`, `https://u:${ghp}@h/x`, "token=[REDACTED] x"]) expect(redact(redact(input))).toBe(redact(input));
  });
});

describe("redact: the task's secret values", () => {
  const cases: [what: string, text: string, secrets: string[], expected: string][] = [
    ["longest first", "pw=hunter2hunter2 and hunter2", ["hunter2", "hunter2hunter2"], `pw=${R} and ${R}`],
    ["regex characters are literal", "a.b*c(d) a.b*c(d)", ["a.b*c(d)"], `${R} ${R}`],
    ["a long value inside a word", "xxhunter22yy", ["hunter22"], `xx${R}yy`],
    ["a 1-character value standing alone", "pin: 7\n7 of 70 and a7", ["7"], `pin: ${R}\n${R} of 70 and a7`],
    ["a 3-character value standing alone", "key=abc, abcdef, xabc", ["abc"], `key=${R}, abcdef, xabc`],
    ["a value with CRLF, as printed", "line1\r\nline2 end", ["line1\r\nline2"], `${R} end`],
    ["a value with CRLF, as normalised output", "line1\nline2 end", ["line1\r\nline2"], `${R} end`],
    ["each line of a multi-line value", "…tail: second-line-of-it\n", ["first-line-of-it\r\nsecond-line-of-it"], `…tail: ${R}\n`],
    ["empty and blank values are no secrets", "a b", ["", " ", "\r\n"], "a b"],
  ];
  it.each(cases)("%s", (_what, text, secrets, expected) => {
    expect(redact(text, secrets)).toBe(expected);
  });

  it("secretForms gives each form once, longest first", () => {
    expect(secretForms(["ab\r\ncd", "ab\r\ncd"])).toEqual(["ab\r\ncd", "ab\ncd", "ab", "cd"]);
  });

  it("outputTail redacts a secret split by a terminal escape or a carriage return", () => {
    expect(outputTail("x hunter2hunter2 y\n", 5, 4000, ["hunter2hunter2"])).toBe(`x ${R} y`);
    expect(outputTail("x hunter2\x1b[0mhunter2 y\n", 5, 4000, ["hunter2hunter2"])).toBe(`x ${R} y`);
    expect(outputTail(`token ${ghp.slice(0, 10)}\x07${ghp.slice(10)}\n`, 5)).toBe(`token ${R}`);
  });
});

describe("redaction of hostile output takes linear time", () => {
  // Each of these 64 KiB lines took seconds in a backtracking rule (a task's output redacted at every publish stalled the sync).
  const lines = [".".repeat(65536), "a.".repeat(32768), "x-".repeat(32768), ".-_".repeat(21845), "a://b".repeat(13107)];
  it.each(lines.map((l) => [l.slice(0, 6), l]))("%s… (64 KiB, one line): redacted within a hang guard, a token in it still found", { timeout: patient(5000) }, (_name, line) => {
    const text = `${line} ghp_${"A".repeat(36)}`;
    const out = outputTail(text, 20, 4000);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain("ghp_");
  });
});

describe("redact", () => {
  const ghp = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
  const pat = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

  it("replaces GitHub tokens", () => {
    expect(redact(`token=${ghp} done`)).toBe("token=[REDACTED] done");
    expect(redact(`export GH_TOKEN=${pat}`)).toBe("export GH_TOKEN=[REDACTED]");
    for (const p of ["gho_", "ghu_", "ghs_", "ghr_"]) expect(redact(`${p}${"x".repeat(36)}`)).toBe("[REDACTED]");
  });

  it("replaces AWS key ids and secret keys", () => {
    expect(redact("key AKIAIOSFODNN7EXAMPLE here")).toBe("key [REDACTED] here");
    expect(redact("ASIAABCDEFGHIJKLMNOP")).toBe("[REDACTED]");
    expect(redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toBe("aws_secret_access_key = [REDACTED]");
  });

  it("replaces Bearer tokens, keeping the word", () => {
    expect(redact("Authorization: Bearer abc.def-ghi_jkl")).toBe("Authorization: Bearer [REDACTED]");
    expect(redact("authorization: bearer abcdefghij")).toBe("authorization: bearer [REDACTED]");
  });

  it("replaces private key blocks, also an unterminated one", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----";
    expect(redact(`before\n${key}\nafter`)).toBe("before\n[REDACTED]\nafter");
    expect(redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n(cut)")).toBe("[REDACTED]");
    expect(redact("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----")).toBe("[REDACTED]");
  });

  it("replaces sk- keys and Slack tokens", () => {
    expect(redact("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz")).toBe("OPENAI_API_KEY=[REDACTED]");
    expect(redact("xoxb-1234567890-abcdef")).toBe("[REDACTED]");
  });

  it("replaces the given secret values, longest first", () => {
    expect(redact("pw=hunter2hunter2 and hunter2", ["hunter2", "hunter2hunter2"])).toBe("pw=[REDACTED] and [REDACTED]");
    expect(redact("a.b*c(d) a.b*c(d)", ["a.b*c(d)"])).toBe("[REDACTED] [REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    const text = "npm test\n✓ 12 passed (ghp is a word), AKIA short, sk-short, Bearer x\n";
    expect(redact(text)).toBe(text);
  });

  it("replaces tiny secret values only where they stand alone (inside words they would shred the output)", () => {
    expect(redact("a b c abc", ["a", "b"])).toBe("[REDACTED] [REDACTED] c abc");
  });
});

describe("outputTail", () => {
  it("keeps the last N lines", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n") + "\n\n";
    expect(outputTail(text, 3)).toBe("line 48\nline 49\nline 50");
    expect(outputTail("one\ntwo\n", 10)).toBe("one\ntwo");
    expect(outputTail("", 5)).toBe("");
  });

  it("strips ANSI escapes and control characters, keeps tabs and unicode", () => {
    const text = "\x1b[32m✓\x1b[0m passed\r\n\x1b[1;31mfail\x1b[0m\té\x07\x00\x7f\n\x1b[?25hdone";
    expect(outputTail(text, 10)).toBe("✓ passed\nfail\té\ndone");
  });

  it("caps the length, keeping the end", () => {
    const text = "a".repeat(10_000) + "END";
    const tail = outputTail(text, 10, 100);
    expect(tail.endsWith("END")).toBe(true);
    expect(tail.startsWith("…")).toBe(true);
    expect(tail.length).toBeLessThanOrEqual(101);
    expect(outputTail("x".repeat(5000), 1).length).toBeLessThanOrEqual(4001);
  });

  it("redacts token shapes and given secrets", () => {
    const out = outputTail(`pushing with ghp_${"Z".repeat(36)}\npassword is s3cr3t-value\n`, 10, 4000, ["s3cr3t-value"]);
    expect(out).toBe("pushing with [REDACTED]\npassword is [REDACTED]");
  });

  it("redacts a token printed in colour", () => {
    const token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    const out = outputTail(`\x1b[32m${token}\x1b[0m\n\x1b[1mAKIAIOSFODNN7EXAMPLE\x1b[0m\n`, 10);
    expect(out).not.toContain(token);
    expect(out).not.toContain("AKIAIOSFODNN7EXAMPLE");
  });

  it("never splits a surrogate pair when capping", () => {
    const tail = outputTail("😀".repeat(3000), 10, 101);
    expect(Buffer.from(tail, "utf8").toString("utf8")).toBe(tail);
  });

  it("publishes nothing when asked for 0 lines", () => {
    expect(outputTail("secret-ish build log\nmore\n", 0)).toBe("");
  });
});

describe("a text cut short (a step clipped to its length)", () => {
  const secret = "Qv9LoginValue7Hd2Xk4Mw8Pn3Rt6Yb1Jc5";
  it.each([
    { text: `Bash: echo ${"a".repeat(20)} ${secret.slice(0, 20)}…`, want: `Bash: echo ${"a".repeat(20)} [REDACTED]…`, why: "a head of the secret at the cut" },
    { text: `Bash: echo ${secret.slice(0, 6)}…`, want: "Bash: echo [REDACTED]…", why: "six characters of it" },
    { text: `Bash: echo ${secret.slice(0, 5)}…`, want: `Bash: echo ${secret.slice(0, 5)}…`, why: "five are too few to tell (too many words begin so)" },
    { text: `Bash: echo ${secret} done`, want: "Bash: echo [REDACTED] done", why: "the whole secret, as redact does" },
    { text: `Bash: echo ${secret.slice(0, 12)}`, want: "Bash: echo [REDACTED]", why: "a head at the end without the ellipsis" },
    { text: "Bash: ls -la", want: "Bash: ls -la", why: "nothing of it" },
  ])("$why", ({ text, want }) => {
    expect(redactClipped(text, [secret])).toBe(want);
  });
});

describe("a long token sent in pieces (re-check finding)", () => {
  const token = `sk-ant-oat01-${"Zq7".repeat(30)}`;
  it.each([
    { text: `reserve x/${token.slice(50)} --reason ${token.slice(0, 50)}`, why: "two halves in one text" },
    { text: `head ${token.slice(10, 40)}`, why: "a piece of 30 characters from its middle" },
  ])("$why: each piece of 24 characters or more is redacted", ({ text }) => {
    const out = redact(text, [token]);
    for (let i = 0; i + 24 <= token.length; i++) expect(out).not.toContain(token.slice(i, i + 24));
  });

  it("a piece shorter than 24 characters, or a short secret's, is left (too many words would match)", () => {
    expect(redact(`x ${token.slice(0, 20)} y`, [token])).toBe(`x ${token.slice(0, 20)} y`);
    expect(redact("abc-defghijklmnopqrstuvwxyz0123", ["abc-defghijklmnopqrstuvwxyz0123456789"])).toBe("abc-defghijklmnopqrstuvwxyz0123");
  });
});
