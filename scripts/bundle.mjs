// The CLI as one file (npm run build, after tsc): dist/coord.mjs holds coord
// and its dependencies, so a `coord sync` from cron loads one module instead
// of several hundred (Node's ESM loader pays per file: 0.5 s of start-up
// becomes about 0.2 s on a small machine). tsc still checks the types and
// writes dist/ for the tests and the library entry points.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/coord.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // The ESM builds of dependencies that ship both (jsonc-parser's UMD build requires its files by path).
  mainFields: ["module", "main"],
  // CommonJS dependencies call require() for Node's own modules and read __filename: give the bundle both.
  banner: {
    js: [
      'import { createRequire as __coordRequire } from "node:module";',
      'import { fileURLToPath as __coordPath } from "node:url";',
      "const require = __coordRequire(import.meta.url);",
      "const __filename = __coordPath(import.meta.url);",
      'const __dirname = __filename.slice(0, __filename.lastIndexOf("/"));',
    ].join(" "),
  },
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
