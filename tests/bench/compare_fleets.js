#!/usr/bin/env node
// compare_fleets.js A B: compares two copies of a fleet semantically (parsed JSON / JSON5,
// key order and formatting ignored; .clawmigrate/ ignored) and reports how many installs differ,
// with a few examples, plus files whose permission bits differ. Exit 0 always; prints one
// summary line on stdout ("differing=N of M installs; mode-changed files=K") and details on stderr.
"use strict";
const fs = require("fs");
const path = require("path");

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: compare_fleets.js FLEET_A FLEET_B");
  process.exit(2);
}

function walk(root, rel = "", out = []) {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) {
      if (e.name !== ".clawmigrate") walk(root, r, out);
    } else if (e.isFile()) out.push(r);
  }
  return out;
}

// JSON5 as OpenClaw reads it; our own generated data, so eval of an object literal is fine here.
function parse(file) {
  const text = fs.readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch {
    return eval("(" + text + ")");
  }
}

function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k]);
    return o;
  }
  return v;
}

function firstDiff(x, y, at = "") {
  if (JSON.stringify(canon(x)) === JSON.stringify(canon(y))) return null;
  if (x && y && typeof x === "object" && typeof y === "object" && Array.isArray(x) === Array.isArray(y)) {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const d = firstDiff(x[k], y[k], `${at}/${k}`);
      if (d) return d;
    }
  }
  return at || "/";
}

// An install is the directory holding openclaw.json.
const installOf = (rel) => {
  const parts = rel.split(path.sep);
  const i = parts.lastIndexOf("agents");
  return i >= 0 ? parts.slice(0, i).join(path.sep) : path.dirname(rel);
};

const fa = walk(a), fb = walk(b);
const all = [...new Set([...fa, ...fb])].sort();
const differing = new Map();
let modeChanged = 0;
const installs = new Set();
for (const rel of all) {
  const inst = installOf(rel);
  installs.add(inst);
  const pa = path.join(a, rel), pb = path.join(b, rel);
  const ea = fs.existsSync(pa), eb = fs.existsSync(pb);
  let why = null;
  if (!ea || !eb) why = `${rel}: only in ${ea ? "A" : "B"}`;
  else {
    const ma = fs.statSync(pa).mode & 0o777, mb = fs.statSync(pb).mode & 0o777;
    if (ma !== mb) modeChanged++;
    let va, vb;
    try {
      va = parse(pa);
      vb = parse(pb);
      const d = firstDiff(va, vb);
      if (d) why = `${rel}: differs at ${d}`;
    } catch (e) {
      why = `${rel}: unparsable (${e.message})`;
    }
  }
  if (why && !differing.has(inst)) differing.set(inst, why);
}
for (const [, why] of [...differing].slice(0, 5)) console.error(`  e.g. ${why}`);
console.log(`differing=${differing.size} of ${installs.size} installs; mode-changed files=${modeChanged}`);
