// Regenerates coordination/: the example coordination tree exactly as the demo
// leaves it (the hub's files at its last commits: the people's from main, the
// machines' from coord, as a machine reads them). Run: npm run example
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demo } from "../dist/commands/demo.js";
import { MACHINES_BRANCH, roleOf } from "../dist/core/trust/ownership.js";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "coordination");
const r = await demo({ log: (l) => console.log(l) });
rmSync(out, { recursive: true, force: true });
const git = (...args) => execFileSync("git", args, { cwd: r.hub, encoding: "utf8", maxBuffer: 1 << 26 });
for (const [branch, role] of [
  ["main", "people"],
  [MACHINES_BRANCH, "machines"],
]) {
  for (const path of git("ls-tree", "-r", "--name-only", branch).split("\n").filter(Boolean)) {
    if (roleOf(path) !== role) continue;
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), git("show", `${branch}:${path}`));
  }
}
rmSync(r.root, { recursive: true, force: true });
console.log(`wrote ${out}`);
