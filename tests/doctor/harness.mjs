// tests/doctor/harness.mjs: OpenClaw's own config migrations, called as a test oracle.
//
// Loads the migration runner of each installed OpenClaw release (target/openclaw-oracle,
// installed by .ci/install-openclaw.sh) and prints what it makes of a config. Nothing here is
// copied from OpenClaw: the runner is imported from the package as published, found at load
// time by reading dist/, so hash-named bundle files are never hard-coded.
//
// Run with the Node 24 of the oracle install:
//   node harness.mjs run RELEASE [FILE]       one release's runner on FILE (or stdin), JSON5 in
//   node harness.mjs staged [FILE]            2026.2.3's runner, then 2026.9.6's on its result
//   node harness.mjs upgrade TARGET [FILE]    the releases newer than the config's
//                                             meta.lastTouchedVersion and not newer than TARGET,
//                                             oldest first (all carried ones when it has none)
//   node harness.mjs only RELEASE ID [FILE]   that one migration's apply alone, {next, changes}
//   node harness.mjs ids RELEASE              the release's migration ids, in run order
//   node harness.mjs describe RELEASE         {id: describe} as the release words them
//   node harness.mjs batch CASE...|DIR        every case (see README.md): {file: result} as JSON
//   node harness.mjs check [CASE...|DIR]      fails unless each case fires exactly its `expect`
//
// A result is {next, changes, ids, unattributed, steps}: `next` is the migrated config (the
// input unchanged when no runner changed anything), `changes` the runners' human lines, `ids`
// the migrations that pushed a change line, `silent` those that altered the object without a
// line (2026.2.3 seeds empty `channels`/`agents` that way), `unattributed`
// the lines no id'd migration pushed (channel-plugin compatibility, binding repair), and
// `steps` one {release, ids, changes, changed} per release run.
import { createRequire } from "node:module";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const ORACLE = process.env.OPENCLAW_ORACLE_DIR || path.join(ROOT, "target/openclaw-oracle");
/** The releases whose doctors this project carries, oldest first. */
export const RELEASES = ["2026.2.3", "2026.9.6"];
/** The name each release exports its runner under, in its own source. */
const RUNNER = { "2026.2.3": "applyLegacyMigrations", "2026.9.6": "applyLegacyDoctorMigrations" };

// QQBot's migration reads these; the oracle must not depend on the shell it runs in.
for (const name of ["QQBOT_APP_ID", "QQBOT_CLIENT_SECRET"]) delete process.env[name];

const require = createRequire(path.join(ORACLE, "oc-2026.9.6/node_modules/openclaw/package.json"));
const JSON5 = require("json5");

function fail(msg) {
  process.stderr.write(`harness: ${msg}\n`);
  process.exit(2);
}

function distOf(release) {
  if (!RUNNER[release]) fail(`unknown release ${release}; known: ${RELEASES.join(", ")}`);
  const dist = path.join(ORACLE, `oc-${release}/node_modules/openclaw/dist`);
  try {
    statSync(dist);
  } catch {
    fail(`${dist} is missing; run .ci/install-openclaw.sh target/openclaw-oracle`);
  }
  return dist;
}

/**
 * The bundle file that defines the runner and the letter it is exported as. A bundle may hold
 * several copies; the one importing the CLI entry point is skipped (importing it starts the CLI).
 */
function locateRunner(release) {
  const dist = distOf(release);
  const name = RUNNER[release];
  const found = [];
  for (const file of readdirSync(dist).sort()) {
    if (!/\.m?js$/.test(file)) continue;
    const text = readFileSync(path.join(dist, file), "utf8");
    if (!text.includes(`function ${name}(`)) continue;
    const exported = [...text.matchAll(/export\s*\{([^}]*)\}/g)]
      .flatMap((m) => m[1].split(","))
      .map((s) => s.trim().split(/\s+as\s+/))
      .find(([local]) => local === name);
    if (!exported) continue;
    found.push({ file, letter: exported[1] ?? exported[0], entry: /from\s*"\.\/entry[.-]/.test(text) });
  }
  const pick = found.find((f) => !f.entry) ?? found[0];
  if (!pick) fail(`no file of ${dist} defines and exports ${name}`);
  return { path: path.join(dist, pick.file), letter: pick.letter };
}

const loaded = new Map();

/**
 * The release's runner and its migration list. The list is not exported by every release, so
 * it is captured the first time the runner iterates it (a probe run on `{}`), then each entry's
 * `apply` is wrapped to record which ids change something. The wrappers only observe.
 */
async function load(release) {
  if (loaded.has(release)) return loaded.get(release);
  const where = locateRunner(release);
  const mod = await import(pathToFileURL(where.path).href);
  const runner = mod[where.letter];
  if (typeof runner !== "function") fail(`${where.path} exports no function as ${where.letter}`);
  const iterate = Array.prototype[Symbol.iterator];
  let list = null;
  Array.prototype[Symbol.iterator] = function () {
    if (
      !list &&
      this.length > 3 &&
      this.every((m) => m && typeof m === "object" && typeof m.id === "string" && typeof m.apply === "function")
    )
      list = this;
    return iterate.call(this);
  };
  try {
    runner({}, {});
  } finally {
    Array.prototype[Symbol.iterator] = iterate;
  }
  if (!list) fail(`${release}: the runner did not iterate a migration list on {}`);
  const rec = { fired: null, silent: null, pushed: null };
  for (const m of list) {
    const apply = m.apply;
    m.apply = function (raw, changes, ...rest) {
      const before = changes.length;
      const shape = JSON.stringify(raw);
      const out = apply.call(this, raw, changes, ...rest);
      const pushed = changes.length - before;
      if (rec.fired && pushed > 0) {
        rec.fired.push(m.id);
        rec.pushed.push(...changes.slice(before));
      } else if (rec.fired && JSON.stringify(raw) !== shape) rec.silent.push(m.id);
      return out;
    };
  }
  const entry = { release, runner, list, ids: list.map((m) => m.id), describe: list.map((m) => m.describe), rec, file: where };
  loaded.set(release, entry);
  return entry;
}

/** One release's runner on a copy of `config`. */
export async function runOne(release, config) {
  const r = await load(release);
  const fired = (r.rec.fired = []);
  const silent = (r.rec.silent = []);
  const pushed = (r.rec.pushed = []);
  let out;
  try {
    out = r.runner(structuredClone(config), {});
  } finally {
    r.rec.fired = r.rec.silent = r.rec.pushed = null;
  }
  const changed = out.next !== null && out.next !== undefined;
  const changes = out.changes ?? [];
  return {
    release,
    next: changed ? out.next : config,
    changed,
    ids: fired,
    silent,
    changes,
    unattributed: changes.filter((c) => !pushed.includes(c)),
    ...(out.warnings?.length ? { warnings: out.warnings } : {}),
  };
}

/**
 * One migration of a release alone (its `apply` on a copy of `config`): for a rule no full run
 * reaches because an earlier id does the same first.
 */
export async function runOnly(release, id, config) {
  const r = await load(release);
  const m = r.list.find((x) => x.id === id) ?? fail(`${release} has no migration ${id}`);
  const next = structuredClone(config);
  const changes = [];
  m.apply(next, changes, undefined);
  return { release, id, next, changes };
}

/** Runs the releases in order, each on the previous one's result. */
export async function runSequence(releases, config) {
  let next = config;
  const steps = [];
  for (const release of releases) {
    const step = await runOne(release, next);
    next = step.next;
    steps.push(step);
  }
  return {
    releases,
    next,
    changes: steps.flatMap((s) => s.changes),
    ids: steps.flatMap((s) => s.ids),
    silent: steps.flatMap((s) => s.silent),
    unattributed: steps.flatMap((s) => s.unattributed),
    steps: steps.map(({ next: _n, ...s }) => s),
  };
}

function versionKey(v) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(v ?? ""));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function cmpVersion(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The carried releases newer than the config's meta.lastTouchedVersion, up to `target`. */
export function releasesFor(target, config) {
  if (!RUNNER[target]) fail(`unknown release ${target}; known: ${RELEASES.join(", ")}`);
  const touched = versionKey(config?.meta?.lastTouchedVersion);
  const to = versionKey(target);
  return RELEASES.filter((r) => {
    const k = versionKey(r);
    return cmpVersion(k, to) <= 0 && (!touched || cmpVersion(k, touched) > 0);
  });
}

/** The `// @case {...}` line of a case file: {target, expect: [id...]}. */
export function caseHeader(text, file) {
  const m = /^\s*\/\/\s*@case\s+(\{.*\})\s*$/m.exec(text.split("\n").slice(0, 5).join("\n"));
  if (!m) fail(`${file}: no "// @case {...}" line among the first lines`);
  let h;
  try {
    h = JSON.parse(m[1]);
  } catch (e) {
    fail(`${file}: the @case line is not JSON: ${e.message}`);
  }
  if (!RUNNER[h.target] || !Array.isArray(h.expect))
    fail(`${file}: @case needs "target" (${RELEASES.join("|")}) and "expect" (the ids it fires, [] for none)`);
  return h;
}

function readInput(file) {
  const text = file && file !== "-" ? readFileSync(file, "utf8") : readFileSync(0, "utf8");
  try {
    return { text, config: JSON5.parse(text) };
  } catch (e) {
    fail(`${file ?? "stdin"}: not JSON5: ${e.message}`);
  }
}

function caseFiles(args) {
  const list = args.length ? args : [path.join(HERE, "cases")];
  return list.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith(".json5"))
          .sort()
          .map((f) => path.join(a, f))
      : [a],
  );
}

/** Every case: the header, the releases run, and the oracle's result. */
export async function runCases(files) {
  const out = {};
  for (const file of files) {
    const { text, config } = readInput(file);
    const header = caseHeader(text, file);
    const releases = releasesFor(header.target, config);
    out[path.basename(file, ".json5")] = { ...header, ...(await runSequence(releases, config)) };
  }
  return out;
}

function same(a, b) {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

async function main(argv) {
  const [mode, ...args] = argv;
  const print = (v) => process.stdout.write(JSON.stringify(v, null, 2) + "\n");
  switch (mode) {
    case "run":
      return print(await runOne(args[0], readInput(args[1]).config));
    case "staged":
      return print(await runSequence(RELEASES, readInput(args[0]).config));
    case "upgrade": {
      const { config } = readInput(args[1]);
      return print(await runSequence(releasesFor(args[0], config), config));
    }
    case "only":
      return print(await runOnly(args[0], args[1] ?? fail("only needs a release and an id"), readInput(args[2]).config));
    case "ids":
      return print((await load(args[0] ?? fail("ids needs a release"))).ids);
    case "describe": {
      const r = await load(args[0] ?? fail("describe needs a release"));
      return print(Object.fromEntries(r.ids.map((id, i) => [id, r.describe[i]])));
    }
    case "batch":
      return print(await runCases(caseFiles(args)));
    case "check": {
      const results = await runCases(caseFiles(args));
      let bad = 0;
      for (const [name, r] of Object.entries(results)) {
        const fired = [...new Set(r.ids)];
        const want = [...new Set(r.expect)];
        // A negative case (expect []) also admits no unattributed change.
        if (!same(fired, want) || (want.length === 0 && r.changes.length > 0)) {
          bad++;
          process.stdout.write(`MISMATCH ${name} (${r.releases.join(" -> ")})\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(fired)}\n  changes ${JSON.stringify(r.changes)}\n`);
        }
      }
      process.stdout.write(`${Object.keys(results).length} cases, ${bad} mismatched\n`);
      process.exit(bad ? 1 : 0);
    }
    default:
      fail("usage: harness.mjs run RELEASE [FILE] | only RELEASE ID [FILE] | staged [FILE] | upgrade TARGET [FILE] | ids RELEASE | batch [CASE...|DIR] | check [DIR]");
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
