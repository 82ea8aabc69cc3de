// What `npm test` checks before it runs the tests: the types of src and test in one tsc run (npm run typecheck),
// and the build the end-to-end tests run (npm run build: esbuild, which checks no types) followed by the lint.
// The two are independent, so they run at once; each one's output is printed when it ends, whole; the exit code
// is the first failure's. tsc sets the pace (about 9 s on 2 cores); when the build was tsc's too, src was
// checked twice and the checks took 14 s.
import { spawn } from "node:child_process";

/** A command line, run with npm's PATH (node_modules/.bin first); resolves to its exit code and output. */
function run(line) {
  return new Promise((resolve) => {
    const child = spawn(line, { shell: true, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => out.push(d));
    child.on("error", (e) => resolve({ line, code: 1, out: `${e.message}\n` }));
    child.on("close", (code) => resolve({ line, code: code ?? 1, out: Buffer.concat(out).toString() }));
  });
}

const jobs = [run("npm run --silent typecheck"), run("npm run --silent build && npm run --silent lint")];
let failed = 0;
for (const job of jobs) {
  const { line, code, out } = await job;
  process.stdout.write(out);
  if (code !== 0) {
    process.stderr.write(`checks: \`${line}\` failed (exit ${code})\n`);
    failed ||= code;
  }
}
process.exit(failed);
