// Bundles the compiled CLI (dist/cli/main.js, built by tsc) into dist/bundle/, which bin/broadside.js
// runs: one file per command module (esbuild's code splitting follows main.ts's dynamic imports) instead
// of the ~1,200 files Node's ESM loader otherwise resolves, reads and links on every start, 967 of them
// @kubernetes/client-node's. ADR 0020 has the figures.
import { copyFile, rm, writeFile } from "node:fs/promises";
import { build } from "esbuild";

/**
 * Node's own modules, imported by our code, reach it through require() instead of ESM import. Node
 * builds the ESM face of a built-in module by reading every one of its exports once, and reading
 * node:http's `WebSocket` (Node 22 and later) loads undici, which loads http2, zlib, worker_threads and
 * node:zip with it: 40-100 ms of a cold `kill` spent on modules it never uses (ADR 0024, addendum).
 * require() hands back the same module object without reading its exports; esbuild's interop reads a
 * named import only when the code uses it.
 */
const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "import-statement" || args.kind === "dynamic-import"
        ? { path: args.path, namespace: "builtin-through-require" }
        : { path: args.path, external: true },
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-through-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

// Chunk names change with their content: a chunk of an earlier build would otherwise stay beside them.
await rm("dist/bundle", { recursive: true, force: true });
const result = await build({
  entryPoints: ["dist/cli/main.js"],
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Chunks stay in dist/bundle/, two levels below the package root, as dist/cli/ is: main.ts and
  // config.ts find package.json and the sandbox's Go modules from import.meta.url that way.
  chunkNames: "chunk-[hash]",
  // Loaded from node_modules as they are: the agent's HTTP server and logger find worker files next to
  // their own modules (pino's transports), and ws's optional native add-ons may be absent.
  external: ["fastify", "pino", "prom-client", "bufferutil", "utf-8-validate"],
  // CommonJS dependencies (client-node's) call require() for Node's own modules.
  banner: {
    js: 'import { createRequire as createBundleRequire } from "node:module"; const require = createBundleRequire(import.meta.url);',
  },
  plugins: [builtinsThroughRequire],
  logLevel: "warning",
  // Which source files each chunk holds: test/integration/wire-client.test.ts reads it to check that a
  // cold shot loads no chunk of @kubernetes/client-node (ADR 0024).
  metafile: true,
});
await writeFile("dist/bundle/meta.json", JSON.stringify(result.metafile));

// The board's page (src/board/ui/app, ADR 0027): Preact and the screens in one minified module, its
// stylesheet, and the HTML that loads both, into dist/board-ui/, which the board serves under fixed
// names (src/board/ui-assets.ts). Nothing is fetched from elsewhere at run time.
await build({
  entryPoints: { board: "src/board/ui/app/main.tsx" },
  outdir: "dist/board-ui",
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["chrome111", "firefox115", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  tsconfig: "src/board/ui/app/tsconfig.json",
  legalComments: "none",
  logLevel: "warning",
});
await build({
  entryPoints: { board: "src/board/ui/app/board.css" },
  outdir: "dist/board-ui",
  bundle: true,
  minify: true,
  logLevel: "warning",
});
await copyFile("src/board/ui/app/index.html", "dist/board-ui/index.html");
