#!/usr/bin/env node
/* global require */
/**
 * node tools/run.js <tool> [args]: what `npm run render`, `npm run policy` and `npm run bench` start.
 * Runs tools/<tool>.ts compiled under bin/ (where `npm run build` compiles the program Pulumi runs),
 * first transpiling the sources whose size or modification time changed since the last run (TypeScript's
 * transpileModule, no type check: `npm test` and CI type-check with tsc). Node then starts the compiled
 * program directly, without a TypeScript loader on every run.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, "bin");
const MANIFEST = path.join(CACHE, ".transpiled.json");
const SOURCES = ["index.ts", "settings", "components", "lib", "tools", "policies"];
const SKIP = new Set(["node_modules", "bin", "out"]);

/** Every .ts source file (not declarations), relative to ROOT. */
function sources() {
  const found = [];
  const walk = (rel) => {
    const abs = path.join(ROOT, rel);
    let stat;
    try {
      stat = fs.statSync(abs);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(abs)) if (!SKIP.has(entry)) walk(path.join(rel, entry));
    } else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
      found.push([rel, `${stat.size}:${stat.mtimeMs}`]);
    }
  };
  for (const s of SOURCES) walk(s);
  return found;
}

/** Brings the transpiled copy up to date; returns how many files were rebuilt. */
function build() {
  let manifest = {};
  try {
    manifest = JSON.parse(fs.readFileSync(MANIFEST, "utf8"));
  } catch {
    manifest = {};
  }
  const current = sources();
  const stale = current.filter(([rel, stamp]) => manifest[rel] !== stamp);
  const live = new Set(current.map(([rel]) => rel));
  const gone = Object.keys(manifest).filter((rel) => !live.has(rel));
  if (stale.length === 0 && gone.length === 0) return 0;
  const ts = require("typescript");
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    resolveJsonModule: true,
  };
  for (const [rel, stamp] of stale) {
    const source = fs.readFileSync(path.join(ROOT, rel), "utf8");
    const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: rel });
    const out = path.join(CACHE, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    // Written aside and renamed: two runs starting together never read a half-written file.
    fs.writeFileSync(`${out}.${process.pid}`, outputText);
    fs.renameSync(`${out}.${process.pid}`, out);
    manifest[rel] = stamp;
  }
  for (const rel of gone) {
    fs.rmSync(path.join(CACHE, rel.replace(/\.ts$/, ".js")), { force: true });
    delete manifest[rel];
  }
  fs.writeFileSync(`${MANIFEST}.${process.pid}`, JSON.stringify(manifest));
  fs.renameSync(`${MANIFEST}.${process.pid}`, MANIFEST);
  return stale.length;
}

const [tool, ...args] = process.argv.slice(2);
if (!tool || !/^[a-z]+$/.test(tool) || !fs.existsSync(path.join(ROOT, "tools", `${tool}.ts`))) {
  console.error("usage: node tools/run.js <render|policy|bench> [args]");
  process.exit(1);
}
build();
// Node.js 22.1+ keeps the compiled code of every module between runs (node:module enableCompileCache);
// older Node.js has no such cache and skips this.
const nodeModule = require("node:module");
if (typeof nodeModule.enableCompileCache === "function") {
  nodeModule.enableCompileCache(path.join(ROOT, "node_modules", ".cache", "node-compile-cache"));
}
const mod = require(path.join(CACHE, "tools", `${tool}.js`));
Promise.resolve(mod.main(args)).then(
  (code) => process.exit(typeof code === "number" ? code : 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
