// Builds the browser code with esbuild:
// - the desk's upload script into server/static/build/ (an old-style script the desk's
//   pages load);
// - the field app into server/field/static/: index.html, the service worker, the web app
//   manifest and content-hashed assets. The service worker is given the list of assets
//   and a version made from their hashes, so a new build replaces the cached app whole.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const server = join(here, "..", "server");
const out = join(server, "field", "static");
// iOS 14.5 Safari (14.1) and Android WebView of the same years understand ES2020.
const target = ["es2020", "safari14.1", "chrome87"];

await esbuild.build({
  entryPoints: [join(here, "src/desk/upload.js")],
  bundle: true, minify: true, format: "iife", target: "es2019",
  outfile: join(server, "static/build/desk-upload.js"), logLevel: "warning",
});

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

// The URLs of a build's files (the metafile names them relative to this folder).
function outputs(result) {
  return Object.keys(result.metafile.outputs)
    .map((file) => "/field/" + relative(out, resolve(here, file)).split(sep).join("/"));
}

// The hashing worker first: the app is told its hashed name.
const worker = await esbuild.build({
  entryPoints: { hash: join(here, "src/app/hash-worker.js") },
  bundle: true, minify: true, format: "iife", target, metafile: true,
  outdir: out, entryNames: "assets/[name]-[hash]", logLevel: "warning",
});
const workerUrl = outputs(worker)[0];

const app = await esbuild.build({
  entryPoints: { app: join(here, "src/app/main.jsx") },
  bundle: true, minify: true, format: "esm", target, metafile: true, sourcemap: false,
  jsx: "automatic", jsxImportSource: "preact",
  define: { __HASH_WORKER__: JSON.stringify(workerUrl) },
  outdir: out, entryNames: "assets/[name]-[hash]", assetNames: "assets/[name]-[hash]",
  logLevel: "warning",
});
const appFiles = outputs(app);
const script = appFiles.find((f) => f.endsWith(".js"));
const style = appFiles.find((f) => f.endsWith(".css"));

const icons = ["icon.svg", "icon-maskable.svg"];
for (const icon of icons) copyFileSync(join(here, "src/app/static", icon), join(out, icon));
copyFileSync(join(here, "src/app/static/manifest.webmanifest"), join(out, "manifest.webmanifest"));
const html = readFileSync(join(here, "src/app/index.html"), "utf8")
  .replace("{{script}}", script).replace("{{style}}", style);
writeFileSync(join(out, "index.html"), html);

// Everything the app needs offline. The PNG icons are drawn by the server (server/field).
const shell = ["/field/", "/field/manifest.webmanifest", ...icons.map((i) => "/field/" + i),
  "/field/icon-192.png", "/field/icon-512.png",
  ...appFiles, workerUrl];
const version = createHash("sha256").update(shell.join("\n") + html).digest("hex").slice(0, 12);
await esbuild.build({
  entryPoints: [join(here, "src/app/sw.js")],
  bundle: true, minify: true, format: "iife", target,
  define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(version) },
  outfile: join(out, "sw.js"), logLevel: "warning",
});
writeFileSync(join(out, "build.json"), JSON.stringify({ version, shell }, null, 1));
console.log(`field app ${version}: ${basename(script)} ${basename(style)} ${basename(workerUrl)}`);
