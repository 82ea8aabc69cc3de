// npm test: the build the end-to-end tests run (npm run build: tsc's dist/ and the bundle) and the lint, then the
// tests (vitest run, with the arguments given to npm test) while tsc checks the types of src and test. The type check
// needs no build and keeps about one core busy for 9 s on 2 cores; the tests leave that much idle while they wait on
// git, processes and clocks. The type check's output is printed after the tests', whole; the exit code is the tests'
// failure, else the type check's.
import { spawn } from "node:child_process";

/** A command line (npm's PATH: node_modules/.bin first); resolves to its exit code and, unless `show`, its output. */
function run(line, show = false) {
  return new Promise((resolve) => {
    const child = spawn(line, { shell: true, stdio: ["ignore", show ? "inherit" : "pipe", show ? "inherit" : "pipe"] });
    const out = [];
    child.stdout?.on("data", (d) => out.push(d));
    child.stderr?.on("data", (d) => out.push(d));
    child.on("error", (e) => resolve({ line, code: 1, out: `${e.message}\n` }));
    child.on("close", (code) => resolve({ line, code: code ?? 1, out: Buffer.concat(out).toString() }));
  });
}

/** The exit code of `job`, after saying which command failed. */
function judged({ line, code }) {
  if (code !== 0) process.stderr.write(`npm test: \`${line}\` failed (exit ${code})\n`);
  return code;
}

const quoted = process.argv.slice(2).map((a) => `'${a.replaceAll("'", "'\\''")}'`);
const built = await run("npm run --silent build && npm run --silent lint", true);
if (judged(built) !== 0) process.exit(built.code);
const types = run("tsc -p tsconfig.test.json");
const tests = judged(await run(["vitest run", ...quoted].join(" "), true));
const checked = await types;
process.stdout.write(checked.out);
process.exit(tests || judged(checked));
