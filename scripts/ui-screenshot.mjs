// docs/ui.png: coord ui's page on a real fleet of three machines (one offline,
// one failed order), taken with Debian's Chromium through playwright-core.
//   npm run screenshot:ui   (or, built: node scripts/ui-screenshot.mjs [out.png])
// Chromium: $PLAYWRIGHT_CHROMIUM, else /usr/bin/chromium (apt-get install chromium).
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const CLI = join(root, "dist", "coord.mjs");
const out = resolve(process.argv[2] ?? join(root, "docs", "ui.png"));
const executablePath = process.env.PLAYWRIGHT_CHROMIUM || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath}: apt-get install chromium, or set PLAYWRIGHT_CHROMIUM`);
  process.exit(1);
}

const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: await mkdtemp(join(tmpdir(), "coord-shot-home-")) };
const coord = (...args) => run(process.execPath, [CLI, ...args], { env });
const git = (cwd, ...args) => run("git", args, { cwd, env });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = await mkdtemp(join(tmpdir(), "coord-shot-"));
const ui = { child: undefined };
try {
  const hub = join(dir, "hub.git");
  await coord("hub", "create", hub);
  const names = ["izzit7", "soda-yeti", "mule-3"];
  const at = Object.fromEntries(names.map((n) => [n, join(dir, n)]));
  for (const n of names) await coord("init", at[n], "--name", n, "--remote", hub);
  // mule-3 beats every 2 s: stopped, it is offline 6 s later.
  const config = join(at["mule-3"], ".git", "coord", "machine.yaml");
  await writeFile(config, (await readFile(config, "utf8")).replace(/^heartbeat: .*$/m, "heartbeat: 2s"));

  const person = join(dir, "person");
  await git(dir, "clone", "--quiet", hub, person);
  const orders = [
    { id: "build", to: "ALL", run: "echo compiling 214 files; echo done in 3.1 s" },
    { id: "test-suite", to: "soda-yeti", run: "echo running 42 tests; echo 'FAIL test/api.test.ts > GET /users returns 404'; echo '  expected 404, received 500'; exit 2" },
    { id: "deploy", to: "izzit7", run: "echo deploying", after: ["test-suite"] },
    { id: "lint", to: "ANY", run: "echo 0 problems" },
  ];
  await writeFile(join(person, "ORDERS.json"), `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders }, null, 2)}\n`);
  await git(person, "add", "ORDERS.json");
  await git(person, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit", "--quiet", "-m", "orders");
  await git(person, "push", "--quiet", "origin", "HEAD:main");

  // A send checks its recipient against the machines its last sync verified: izzit7 registered first.
  await coord("sync", "--dir", at.izzit7, "--no-run");
  await coord("send", "--dir", at.izzit7, "soda-yeti", "the API tests fail on your side: can you look at GET /users?");
  for (const n of names) await coord("sync", "--dir", at[n]);
  await coord("send", "--dir", at["soda-yeti"], "izzit7", "on it: the fixture lost its users table", "--priority", "high");
  await coord("send", "--dir", at["soda-yeti"], "mule-3", "disk almost full on the build volume", "--priority", "urgent");
  for (const n of ["soda-yeti", "izzit7", "soda-yeti"]) await coord("sync", "--dir", at[n]);
  await sleep(7000); // mule-3 goes offline

  ui.child = spawn(process.execPath, [CLI, "ui", "--dir", at.izzit7, "--port", "0", "--every", "2s"], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((ok, fail) => {
    let text = "";
    const timer = setTimeout(() => fail(new Error(`coord ui printed no URL in 20 s: ${text}`)), 20_000);
    ui.child.stdout.on("data", (d) => {
      text += d;
      const m = /http:\/\/\S+/.exec(text);
      if (m) {
        clearTimeout(timer);
        ok(m[0]);
      }
    });
  });

  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, colorScheme: "light" });
    await page.goto(url);
    await page.locator('[data-machine="mule-3"][data-presence="offline"]').waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "test-suite" }).click();
    await page.locator("#detail-reports pre").waitFor({ timeout: 20_000 });
    await page.locator("#detail-history li").first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  ui.child?.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
  await rm(env.HOME, { recursive: true, force: true });
}
