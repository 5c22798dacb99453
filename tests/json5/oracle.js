// Reads texts with the json5 npm package, as OpenClaw reads openclaw.json (the differential
// fuzzer's oracle, tests/it/json5_diff.rs).
//   node oracle.js JSON5_PACKAGE_DIR BATCH.json   ->  stdout: one JSON array of results
// BATCH.json is a JSON array of texts. Each result is {"ok": tree} or {"err": message}, or
// {"lone": true} when the tree holds a string with a lone surrogate (no Rust String can). When
// json5 defined a key twice on one object (the last wins), "dup" names the first such key: json5
// defines each member with Object.defineProperty, which is watched during the parse.
// In `tree`, NaN and ±Infinity (which JSON.stringify would turn into null) are written as
// {"$nonfinite": "NaN" | "Infinity" | "-Infinity"}.
'use strict';
const fs = require('fs');
const path = require('path');
const JSON5 = require(path.resolve(process.argv[2]));
const texts = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

class Lone extends Error {}

function canonical(v) {
  if (typeof v === 'number') {
    return Number.isFinite(v) ? v : { $nonfinite: String(v) };
  }
  if (typeof v === 'string') {
    if (lone.test(v)) throw new Lone();
    return v;
  }
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) {
      if (lone.test(k)) throw new Lone();
      Object.defineProperty(out, k, { value: canonical(v[k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

// json5 warns on a raw U+2028/U+2029 in a string; keep the output to the results.
console.warn = () => {};
const defineProperty = Object.defineProperty;
let dup;
Object.defineProperty = function (obj, key, desc) {
  if (dup === undefined && Object.prototype.hasOwnProperty.call(obj, key)) dup = key;
  return defineProperty(obj, key, desc);
};
const results = texts.map((t) => {
  let v;
  dup = undefined;
  try {
    v = JSON5.parse(t);
  } catch (e) {
    return { err: String(e.message) };
  }
  try {
    return dup === undefined ? { ok: canonical(v) } : { ok: canonical(v), dup };
  } catch (e) {
    if (e instanceof Lone) return { lone: true };
    throw e;
  }
});
process.stdout.write(JSON.stringify(results));
