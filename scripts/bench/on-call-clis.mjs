// Issue "Every agent for real", rows 17f–h: on call with each other agent CLI the tests run for real, as row 17b with
// claude: a's plain `coord send` to b → the answer of b's agent in a's inbox (a's daemon logs it delivered). The fleet
// of rows 17 (3 default daemons, GitHub's figures, the hub behind the far host); b on call with codex (17f), OpenCode
// (17g: its turns over the Agent Client Protocol, under coord's driver) or Gemini CLI (17h), the newest pinned in
// scripts/agent-clis.json as scripts/install-agent-clis.mjs installed it, each against its scripted model server on
// loopback (the tests' own: test/openai-server.ts, test/chat-server.ts, test/gemini-server.ts, built here with esbuild),
// which answers at once. A CLI not installed leaves its row out, and the run says why. 3 questions each (smoke: 1), a
// new conversation each, at a's share of the push budget.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { dur, fixture, median, run, say, size } from "./lib.mjs";
import { ASKER, answerAt, ask, FLEET_TEXT, list, medianWorst, NAMES, nextQuestion, ON_CALL, ONE_WAY_MS, rawRead, SHARE_MS, settle } from "./on-call.mjs";
import { defaultDaemons, GITHUB, hubAndMachines } from "./seconds.mjs";

const pins = JSON.parse(readFileSync(new URL("../agent-clis.json", import.meta.url), "utf8")).clis;
const cache = () => process.env.COORD_AGENT_CLIS || join(homedir(), ".cache", "coord-agent-clis");

/** The newest pinned `name` as installed: { version, bin }, or { missing }. */
export function installed(name) {
  const pin = pins.find((p) => p.name === name);
  const bin = pin && join(cache(), `${name}@${pin.version}`, "node_modules", ".bin", pin.bin);
  return bin && existsSync(bin) ? { version: pin.version, bin } : { missing: `${name} is not installed (node scripts/install-agent-clis.mjs)` };
}

/** The tests' scripted model server of one API, built to a module of the fixture's and imported. */
export async function serverModule(f, file) {
  const out = join(f.root, "servers", file.replace(/\.ts$/, ".mjs"));
  await build({ entryPoints: [new URL(`../../test/${file}`, import.meta.url).pathname], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "warning" });
  return import(out);
}

/** Each CLI: its scripted server started and its home made (the environment its wrapper sets), and the requests it served. */
const CLIS = [
  {
    n: "17f",
    name: "codex",
    api: "the OpenAI Responses API",
    async setUp(f, work) {
      const m = await serverModule(f, "openai-server.ts");
      const server = await m.startOpenAiServer();
      f.onCleanup(() => server.close());
      // Outside the temp directory: codex refuses to make its sandbox's helper links under TMPDIR (test/codex-real).
      const home = mkdtempSync(join("/var/tmp", "coord-bench-codex-"));
      f.onCleanup(() => rmSync(home, { recursive: true, force: true }));
      await m.codexHome(home, server);
      // Codex runs only in a git repository.
      await run("git", ["init", "-q", work], { env: f.env });
      return { env: { CODEX_HOME: home, [m.CODEX_KEY_VAR]: server.key }, requests: () => server.requests.length };
    },
  },
  {
    n: "17g",
    name: "opencode",
    api: "a Chat Completions API",
    async setUp(f) {
      const m = await serverModule(f, "chat-server.ts");
      const server = await m.startChatServer();
      f.onCleanup(() => server.close());
      const env = await m.opencodeHome(join(f.root, "opencode-home"), server);
      return { env: { ...env, ...m.OPENCODE_QUIET, [m.OPENCODE_KEY_VAR]: server.key }, requests: () => server.requests.filter((r) => r.tools).length };
    },
  },
  {
    n: "17h",
    name: "gemini",
    api: "the Gemini API",
    async setUp(f) {
      const m = await serverModule(f, "gemini-server.ts");
      const server = await m.startGeminiServer();
      f.onCleanup(() => server.close());
      // Its settings in the fixture's HOME, which every process of the fixture has.
      const env = await m.geminiHome(f.home, server);
      return { env, requests: () => server.requests.length };
    },
  },
];

/** One CLI's row: its fleet, its questions, the answers' times at a. */
async function oneCli(cli) {
  const real = installed(cli.name);
  if ("missing" in real) {
    say(`on call with ${cli.name}: left out (${real.missing})`);
    return [];
  }
  const f = fixture(`on-call-${cli.name}`);
  try {
    const work = join(f.root, "work");
    mkdirSync(work, { recursive: true });
    const agent = await cli.setUp(f, work);
    // In the environment of every process of the fixture, the daemons' too: the shield finds the CLI's state where
    // the CLI will look for it (a variable set only in a wrapper around the CLI names a place the shield never shows).
    Object.assign(f.env, agent.env, { PATH: `${dirname(real.bin)}:${f.env.PATH ?? ""}` });
    const { dirs, remote } = await hubAndMachines(f, NAMES, { hubSettings: GITHUB, oneWayMs: ONE_WAY_MS });
    await f.mustCoord(["agent", "on-call", cli.name, "--cwd", work, "--from", ASKER, "--dir", dirs[ON_CALL]]);
    const lsRemote = [];
    for (let i = 0; i < 3; i++) lsRemote.push((await run("git", ["ls-remote", remote], { env: f.env })).ms);
    const fl = await defaultDaemons(f, NAMES, dirs);
    try {
      await settle(fl);
      const count = size(3, 1);
      const BOUND = 90_000;
      const answers = [];
      const texts = [];
      for (let i = 0; i < count; i++) {
        say(`on call with ${cli.name}: a asks b, b's agent answers, ${i + 1}/${count}`);
        const q = await ask(f, dirs, `question ${i + 1}: what is in the repo?`);
        const a = await answerAt(f, fl, dirs, q.id, q.t0, BOUND);
        answers.push(a.at - q.t0);
        texts.push(a.text);
        if (i + 1 < count) await nextQuestion(q.t0, SHARE_MS);
      }
      const dead = fl.dead();
      await fl.stopAll();
      const missed = answers.filter((x) => !Number.isFinite(x)).length;
      const wrong = texts.filter((t) => t !== undefined && !/^heard\b/.test(t)).length;
      return [
        {
          n: cli.n,
          what: `on call with ${cli.name}: a's plain coord send to b → b's agent's answer in a's inbox (a's daemon logs it delivered), the real ${cli.name} ${real.version} (against a scripted model server of ${cli.api} on loopback that answers at once), ${FLEET_TEXT}`,
          coord: medianWorst(answers, BOUND),
          base: rawRead(median(lsRemote.filter(Number.isFinite))),
          ratio: "",
          goal: "measured (17b is claude's)",
          met: dead === 0 && missed === 0 && wrong === 0,
          notes: `${count} questions a → b, each a new conversation; from the send's start to a's "new message" line for the answer: ${list(answers)}; ${agent.requests()} requests at the model server${wrong ? `; ${wrong} answers not the model's ("${texts.find((t) => !/^heard\b/.test(t ?? "heard"))?.slice(0, 120)}")` : ""}${dead ? `; ${dead} daemons exited early` : ""}; bound ${dur(BOUND)}`,
        },
      ];
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/** Rows 17f–h: one per CLI installed. */
export async function onCallEachCli() {
  const rows = [];
  for (const cli of CLIS) rows.push(...(await oneCli(cli)));
  return rows;
}
