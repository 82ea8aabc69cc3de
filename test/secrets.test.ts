// Secrets an order names and a machine holds: the names and the variables
// that hold them, warnings for secrets written in ORDERS.json, the store file.
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatProblem, parseOrders } from "../src/core/orders/orders.js";
import {
  envValueWarning,
  missingSecretReason,
  resolveSecretRefs,
  secretEnvName,
  secretNameProblem,
  suggestedSecretName,
  writtenCredential,
  writtenFieldWarning,
} from "../src/core/trust/secrets.js";
import { listSecrets, readSecretStore, removeSecret, resolveOrderSecrets, secretsPath, setSecret } from "../src/state/secrets.js";

const TOKEN = "ghp_" + "Zx9".repeat(12);

describe("secret names and the variables that hold them", () => {
  it.each([
    ["deploy-token", "COORD_SECRET_DEPLOY_TOKEN"],
    ["npm.token", "COORD_SECRET_NPM_TOKEN"],
    ["Gh_Token2", "COORD_SECRET_GH_TOKEN2"],
    ["a", "COORD_SECRET_A"],
    ["9-lives", "COORD_SECRET_9_LIVES"],
  ])("%s is held by %s", (name, variable) => {
    expect(secretNameProblem(name)).toBeUndefined();
    expect(secretEnvName(name)).toBe(variable);
  });

  it.each(["", "-lead", ".hidden", "has space", "ünï", "a/b", "x".repeat(129), "__proto__"])("%j is no secret name", (name) => {
    expect(secretNameProblem(name)).toMatch(/is not a secret name/);
  });

  it.each([
    ["GH_TOKEN", "gh-token"],
    ["_PRIVATE", "private"],
    ["API_KEY_2", "api-key-2"],
    ["__", "my-secret"],
  ])("the name suggested for %s is %s", (variable, name) => {
    expect(suggestedSecretName(variable)).toBe(name);
  });

  it("resolves every named secret, or refuses with the first one missing (by variable)", () => {
    const lookup = (name: string) => ({ "deploy-token": "v1", other: "v2" })[name];
    expect(resolveSecretRefs({ B: "other", A: "deploy-token" }, lookup, ".git/coord/secrets.yaml")).toEqual({ env: { A: "v1", B: "v2" } });
    expect(resolveSecretRefs({ Z: "deploy-token", Y: "gone", X: "missing-too" }, lookup, ".git/coord/secrets.yaml")).toEqual({
      refused: "secret missing-too is not in this machine's store (.git/coord/secrets.yaml or COORD_SECRET_MISSING_TOO)",
    });
    expect(missingSecretReason("deploy-token", ".git/coord/secrets.yaml")).toBe(
      "secret deploy-token is not in this machine's store (.git/coord/secrets.yaml or COORD_SECRET_DEPLOY_TOKEN)",
    );
  });
});

describe("env values written in the repository that should be secrets", () => {
  it.each([
    // [variable, as written, the warning starts with (undefined: no warning)]
    ["NODE_ENV", "test", undefined],
    ["PATH_PREFIX", "/usr/local", undefined],
    ["TOKEN_FILE", "/run/secrets/token", undefined],
    ["PASSWORD_LENGTH", "12", undefined],
    ["EMPTY_TOKEN", "", undefined],
    ["REPO", "ssh://git@github.com/acme/app.git", undefined],
    ["REF", { secret: "deploy-token" }, undefined],
    ["SHOWN", { value: "v" }, undefined],
    ["GH", TOKEN, "the value looks like a secret (GitHub token)"],
    ["NPM", `npm_${"a".repeat(36)}`, "the value looks like a secret (npm token)"],
    ["AWS", "AKIAABCDEFGHIJKLMNOP", "the value looks like a secret (AWS access key id)"],
    ["OPENAI", `sk-${"x".repeat(24)}`, "the value looks like a secret (sk- API key)"],
    ["DB_URL", "postgres://app:pg-pass@db/prod", "the value looks like a secret (URL userinfo)"],
    ["HOOK", "https://bot:abc@hooks.example.com/x", "the value looks like a secret (URL userinfo)"],
    ["AUTH", "Bearer abcdefgh12345678", "the value looks like a secret (Bearer token)"],
    ["DB_PASSWORD", "hunter2", "DB_PASSWORD is named like a secret"],
    ["GITHUB_TOKEN", "abc", "GITHUB_TOKEN is named like a secret"],
    ["api_key", "abc", "api_key is named like a secret"],
    ["WRAPPED", { value: TOKEN }, "the value looks like a secret (GitHub token)"],
    ["PIN", { value: "42", secret: true }, "this secret value sits in plain text in the repository"],
  ] as const)("%s = %j", (variable, written, warning) => {
    const said = envValueWarning(variable, written as never);
    if (warning === undefined) expect(said).toBeUndefined();
    else {
      expect(said?.startsWith(warning)).toBe(true);
      const name = suggestedSecretName(variable);
      expect(said).toContain(`coord secret set ${name}`);
      expect(said).toContain(`{"secret": "${name}"}`);
    }
  });

  it("parseOrders reports them as warnings with file, line and path; the file stays valid", () => {
    const text = JSON.stringify(
      {
        version: 1,
        orders: [
          { id: "a", to: "m1", run: "x", env: { NODE_ENV: "test", PIN: { value: "42", secret: true } } },
          { id: "b", to: "m1", run: "x", env: { GH: TOKEN, REF: { secret: "gh" } } },
        ],
      },
      null,
      2,
    );
    const r = parseOrders(text);
    expect(r.problems).toEqual([]);
    expect(r.orders?.orders).toHaveLength(2);
    expect(r.warnings.map(formatProblem)).toEqual([
      'ORDERS.json:10 orders[0].env.PIN: order "a" field env.PIN: this secret value sits in plain text in the repository (it is redacted from output, but whoever can read the hub reads it); keep it in the secret store of each machine that runs the order (coord secret set pin, there) and write {"secret": "pin"} instead',
      `ORDERS.json:21 orders[1].env.GH: order "b" field env.GH: the value looks like a secret (GitHub token) and sits in plain text in the repository; keep it in the secret store of each machine that runs the order (coord secret set gh, there) and write {"secret": "gh"} instead`,
    ]);
    // The warning names the variable, never repeats the value.
    expect(r.warnings.map(formatProblem).join("\n")).not.toContain(TOKEN);
  });
});

describe("credentials written into a command, a directory or an agent's argument", () => {
  it.each([
    // [as written, the kind of credential (undefined: none)]
    ["curl https://alpha:PW@host/x", "URL userinfo"],
    ["git clone https://oauth2:s3cr3t@gitlab.example.com/fleet.git", "URL userinfo"],
    [`git clone https://${TOKEN}@github.com/acme/app.git`, "URL userinfo"],
    ["psql postgres://app:pg-pass@db/prod -c 'select 1'", "URL userinfo"],
    [`gh release create v1 --token ${TOKEN}`, "GitHub token"],
    [`npm publish --//registry.npmjs.org/:_authToken=npm_${"a".repeat(36)}`, "npm token"],
    ["AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP aws s3 ls", "AWS access key id"],
    [`--api-key=sk-${"x".repeat(24)}`, "sk- API key"],
    ['curl -H "Authorization: Bearer abcdefgh12345678" https://api.example.com', "Bearer token"],
    ["DB_PASSWORD=hunter2 ./migrate", "secret pair"],
    ["mysql --password=hunter2 app", "secret pair"],
    // What a variable stands for is not written here: the way to do it.
    ["curl https://alpha:$PW@host/x", undefined],
    [`git clone https://x-access-token:$${"{"}GH_TOKEN}@github.com/acme/app.git`, undefined],
    ['curl -H "Authorization: Bearer $API_TOKEN" https://api.example.com', undefined],
    ["TOKEN=$GH_TOKEN ./deploy", undefined],
    ['mysql --password="$(cat /run/secrets/db)" app', undefined],
    ["set PASSWORD=%DB_PASSWORD% && migrate.cmd", undefined],
    // No credential at all.
    ["git clone https://alice@git.example.com/fleet.git", undefined],
    ["git clone ssh://git@github.com:2222/acme/app.git", undefined],
    ["git clone git@github.com:acme/app.git", undefined],
    ["npm test && echo done", undefined],
    ["~/work/app", undefined],
    ["--model=opus", undefined],
  ])("%s", (text, shape) => expect(writtenCredential(text)).toBe(shape));

  it.each([
    ["run", 'write "$TOKEN" in the command in its place'],
    ["cwd", "the task gets it as the variable TOKEN"],
    ["args", "the task gets it as the variable TOKEN"],
  ] as const)("the warning for %s says what to do, never the value", (field, use) => {
    const said = writtenFieldWarning(field, "curl https://alpha:PW@host/x");
    expect(said).toMatch(/^the (command|directory|argument) holds what looks like a credential \(URL userinfo\) in plain text in the repository/);
    expect(said).toContain('coord secret set <name>, there), name it in env as "TOKEN": {"secret": "<name>"}');
    expect(said).toContain(use);
    expect(said).not.toContain("PW");
    expect(writtenFieldWarning(field, "npm test")).toBeUndefined();
  });

  it("parseOrders warns of each, naming the order (or service) and the field, in the file's order; the file stays valid", () => {
    const text = JSON.stringify(
      {
        version: 1,
        orders: [
          { id: "fetch", to: "m1", run: "curl https://alpha:PW@host/x", cwd: "/srv/app" },
          { id: "review", to: "m1", agent: "claude", prompt: "review", args: ["--model=opus", `--api-key=sk-${"x".repeat(24)}`] },
          { id: "clean", to: "m1", run: "curl https://alpha:$PW@host/x", env: { PW: { secret: "pw" } } },
        ],
        services: [{ id: "web", to: "m1", run: "serve --db postgres://app:pg-pass@db/prod", env: { GH: TOKEN } }],
      },
      null,
      2,
    );
    const r = parseOrders(text);
    expect(r.problems).toEqual([]);
    expect(r.orders?.orders).toHaveLength(3);
    const said = r.warnings.map(formatProblem);
    expect(said).toEqual([
      expect.stringMatching(/^ORDERS\.json:7 orders\[0\]\.run: order "fetch" field run: the command holds what looks like a credential \(URL userinfo\)/),
      expect.stringMatching(/^ORDERS\.json:17 orders\[1\]\.args\[1\]: order "review" field args\[1\]: the argument holds what looks like a credential \(sk- API key\)/),
      expect.stringMatching(/^ORDERS\.json:\d+ services\[0\]\.run: service "web" field run: the command holds what looks like a credential \(URL userinfo\)/),
      expect.stringMatching(/^ORDERS\.json:\d+ services\[0\]\.env\.GH: service "web" field env\.GH: the value looks like a secret \(GitHub token\)/),
    ]);
    for (const secret of ["PW@", "pg-pass", TOKEN, "x".repeat(24)]) expect(said.join("\n")).not.toContain(secret);
  });
});

describe("the secret store", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const state = async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-secrets-"));
    return dir;
  };

  it("set, list and rm keep the file 0600 and never hold a name twice; no file is an empty store", async () => {
    const s = await state();
    expect(await readSecretStore(s)).toEqual({});
    expect(await setSecret(s, "deploy-token", "v1")).toBe(false);
    expect(await setSecret(s, "deploy-token", "v2\nline two")).toBe(true);
    expect(await setSecret(s, "007", "0123")).toBe(false);
    expect(((await stat(secretsPath(s))).mode & 0o777).toString(8)).toBe("600");
    expect({ ...(await readSecretStore(s)) }).toEqual({ "deploy-token": "v2\nline two", "007": "0123" });
    expect(await listSecrets(s, { COORD_SECRET_FROM_ENV: "x", OTHER: "y" })).toEqual({ store: ["007", "deploy-token"], variables: ["COORD_SECRET_FROM_ENV"] });
    expect(await removeSecret(s, "deploy-token")).toBe(true);
    expect(await removeSecret(s, "deploy-token")).toBe(false);
    expect(Object.keys(await readSecretStore(s))).toEqual(["007"]);
    await expect(setSecret(s, "bad name", "x")).rejects.toThrow(/"bad name" is not a secret name/);
    await expect(setSecret(s, "empty", "")).rejects.toThrow(/is empty/);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o602])("refuses a store of mode %o, with one sentence", async (mode) => {
    const s = await state();
    await writeFile(secretsPath(s), "deploy-token: v1\n");
    await chmod(secretsPath(s), mode);
    await expect(readSecretStore(s)).rejects.toThrow(/can be read by others than its owner \(mode 0\d{3}\), so coord does not use its secrets; run chmod 600 /);
    await expect(setSecret(s, "x", "y")).rejects.toThrow(/chmod 600/);
    const r = await resolveOrderSecrets({ dir: s, stateDir: s }, { TOKEN: "deploy-token" }, {});
    expect(r).toEqual({ refused: expect.stringMatching(/^secret deploy-token cannot be read: .* can be read by others than its owner/) });
  });

  it.each([
    ["- a list\n", /must map secret names to values/],
    ["x: [1\n", /is not valid YAML/],
    ["n: 3\n", /secret n must be text; quote its value/],
    ["bad name: x\n", /"bad name" is not a secret name/],
  ])("refuses a store holding %j", async (text, error) => {
    const s = await state();
    await writeFile(secretsPath(s), text, { mode: 0o600 });
    await expect(readSecretStore(s)).rejects.toThrow(error);
  });

  it("refuses a store that is a symbolic link", async () => {
    const s = await state();
    await writeFile(join(s, "elsewhere.yaml"), "a: b\n", { mode: 0o600 });
    await symlink(join(s, "elsewhere.yaml"), secretsPath(s));
    await expect(readSecretStore(s)).rejects.toThrow(/is a symbolic link/);
  });

  it("a COORD_SECRET_ variable wins over the store, and spares reading it; an empty one holds nothing", async () => {
    const s = await state();
    const m = { dir: join(s, ".."), stateDir: s };
    await setSecret(s, "deploy-token", "from-store");
    expect(await resolveOrderSecrets(m, { T: "deploy-token" }, {})).toEqual({ env: { T: "from-store" } });
    expect(await resolveOrderSecrets(m, { T: "deploy-token" }, { COORD_SECRET_DEPLOY_TOKEN: "from-env" })).toEqual({ env: { T: "from-env" } });
    expect(await resolveOrderSecrets(m, { T: "deploy-token" }, { COORD_SECRET_DEPLOY_TOKEN: "" })).toEqual({ env: { T: "from-store" } });
    await chmod(secretsPath(s), 0o644); // unreadable now: a variable still serves
    expect(await resolveOrderSecrets(m, { T: "deploy-token" }, { COORD_SECRET_DEPLOY_TOKEN: "from-env" })).toEqual({ env: { T: "from-env" } });
    await chmod(secretsPath(s), 0o600);
    expect(await resolveOrderSecrets(m, { T: "nope" }, {})).toEqual({
      refused: `secret nope is not in this machine's store (${s.split("/").at(-1)}/secrets.yaml or COORD_SECRET_NOPE)`,
    });
    expect(await readFile(secretsPath(s), "utf8")).toMatch(/^# coord secret store/);
  });
});
