#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: clawmigrate maintainers
# MIT License (see https://opensource.org/licenses/MIT)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: migrate
short_description: Apply, preview, undo or repair clawmigrate's migrations on a host's OpenClaw installs
version_added: "0.1.0"
description:
  - Runs the C(clawmigrate) binary on the managed host with C(--format json) over one or more
    OpenClaw installs (state directories), and reports what it planned, wrote or undid.
  - With O(state=migrated) it applies every pending migration (C(clawmigrate migrate --yes)).
    In check mode it runs C(clawmigrate migrate --dry-run) instead and writes nothing.
  - With O(state=checked) it only previews (C(clawmigrate migrate --check)), in or out of check
    mode; RV(ignore:changed) then says whether anything would be written.
  - With O(state=rolled_back) it restores the exact bytes a run replaced
    (C(clawmigrate rollback --yes)). In check mode it runs C(clawmigrate rollback --dry-run),
    which says per install what the real run would restore or refuse (a file changed since the
    run fails the check as it would fail the run), and writes nothing.
  - With O(state=repaired) it accepts the changed checksum of one applied migration
    (O(rebless)) on exactly the installs whose ledger records the old checksum O(rebless_from)
    (C(clawmigrate repair --rebless MIGRATION --from CHECKSUM --yes), Flyway's repair narrowed
    to one migration and one known value), after the operator has checked that the change is
    intended. It writes no install file; each such install's ledger gains a C(repair) run. An
    install recording any other checksum fails with C(kind) C(refused); one where the migration
    is not applied or already records the current checksum is left as it is. In check mode it
    runs C(clawmigrate repair --dry-run) instead and writes nothing.
  - In diff mode it returns, per file, the unified diff clawmigrate prints for its dry run.
    Credentials are masked by clawmigrate itself (C(prefix…[fingerprint])); no key is ever
    printed.
  - RV(ignore:changed) is true only when files were written (or, in check mode or with
    O(state=checked), would be written); with O(state=repaired), when a checksum was (or in
    check mode would be) accepted on an install.
  - The task fails when any install fails to load, is unsupported, needs input (a key the
    install does not hold), has a conflict, or when clawmigrate refuses the run or an install
    (with O(state=repaired), an install recording neither O(rebless_from) nor the current
    checksum). The failure
    message carries clawmigrate's own message and fix for each; RV(failures) lists them with a
    stable C(kind) a playbook can branch on. The installs that could be migrated are migrated
    all the same (one broken install never stops the others).
  - The failure message stays short at any fleet size. It names each failing install with its
    kind and clawmigrate's message (cut at 300 characters), at most 5 of them, then says how
    many more there are; RV(failures) and RV(report) hold the rest.
author:
  - clawmigrate maintainers
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: partial
    details:
      - O(state=migrated) and O(state=checked) return a diff per file; O(state=rolled_back)
        returns none (the restored bytes are the ones the run replaced), nor does
        O(state=repaired) (it writes no install file).
  platform:
    platforms: posix
options:
  state_dir:
    description:
      - OpenClaw state directories, one install each (C(--state-dir)).
      - When neither O(state_dir) nor O(fleet) is given, clawmigrate uses the install OpenClaw
        itself would use for the remote user (E(OPENCLAW_STATE_DIR), E(OPENCLAW_CONFIG_PATH),
        C(~/.openclaw), legacy directories; see O(profile)).
    type: list
    elements: path
    default: []
  fleet:
    description:
      - Trees holding many installs (C(--fleet)); every directory below one with an
        C(openclaw.json) (or a legacy config) is one install.
    type: list
    elements: path
    default: []
  fleet_depth:
    description:
      - How many levels below a O(fleet) directory to look for installs (C(--fleet-depth)).
        clawmigrate's default is 4.
    type: int
  profile:
    description:
      - OpenClaw profile name for the default target (C(--profile), state dir
        C(~/.openclaw-NAME)).
    type: str
  only:
    description:
      - Run only these migrations (C(--only)); C(1), C(V0001) or the full id
        C(clawmigrate list) prints.
      - Ignored with O(state=rolled_back) and O(state=repaired).
    type: list
    elements: str
    default: []
  key_files:
    description:
      - Keys the operator supplies, as a mapping of provider to the path of a file on the
        managed host that holds the key alone on one line (C(--key-file PROVIDER=FILE)), for
        example C(minimax-cn) mapped to C(/etc/openclaw/keys/minimax-cn). Used only where an
        install holds no key for the provider.
      - Only paths go here, never a key. The option is C(no_log) all the same, so a key pasted by
        mistake is not logged; the paths show as C(********) in the task's output.
      - Ignored with O(state=rolled_back) and O(state=repaired).
    type: dict
    default: {}
  binary:
    description:
      - Path to the clawmigrate binary on the managed host.
      - By default C(clawmigrate) is looked up on E(PATH), in C(/usr/local/bin) and in
        C(~/.cargo/bin).
    type: path
  state:
    description:
      - V(migrated) applies pending migrations; V(checked) only previews them; V(rolled_back)
        undoes a run (O(run_id), or the latest run not yet undone on each install); V(repaired)
        accepts the changed checksum of O(rebless) where the install records O(rebless_from).
    type: str
    choices: [migrated, checked, rolled_back, repaired]
    default: migrated
  run_id:
    description:
      - With O(state=rolled_back), the run to undo. An invocation id (RV(invocation_id) of an
        earlier task) undoes that whole run on every target install that holds it; a per-install
        run id (an entry of RV(run_ids)) undoes one install's part of it.
      - It must have the shape of a run id as C(clawmigrate rollback --list) prints it
        (C(20261129T154818Z-3f9a1c2e7b10), optionally C(.N)); anything else, such as an option,
        fails the task with C(kind) C(usage) before clawmigrate runs. It is passed after C(--).
    type: str
  force:
    description:
      - With O(state=rolled_back), restore even files changed since the run (C(--force); their
        current bytes are backed up first).
    type: bool
    default: false
  rebless:
    description:
      - With O(state=repaired) (and required by it), the applied migration whose checksum
        changed (C(--rebless)), as C(1), C(V0001) or the full id C(clawmigrate list) prints.
    type: str
  rebless_from:
    description:
      - With O(state=repaired) (and required by it), the exact old checksum the installs record
        for O(rebless) (C(--from), C(sha256:HEX)); C(clawmigrate status) shows it as
        C(recorded), and the C(checksum-changed) warning of O(state=migrated) or
        O(state=checked) names it.
      - Only installs recording this value are changed; it must not be the migration's current
        checksum (clawmigrate refuses that with C(usage)).
    type: str
notes:
  - The binary's exit codes are not the result; the module reads the JSON report (schema 3)
    and decides from each install's outcome. An install error may be a string or an object
    with C(kind) and C(message); both are understood.
"""

EXAMPLES = r"""
- name: Preview and apply clawmigrate on every OpenClaw install of the host
  clawmigrate.openclaw.migrate:
    fleet:
      - /srv/openclaw
  register: clawmigrate_run

- name: Apply on one install, supplying the China key from a file on the host
  clawmigrate.openclaw.migrate:
    state_dir:
      - /home/bot/.openclaw
    key_files:
      minimax-cn: /etc/openclaw/keys/minimax-cn
    binary: /usr/local/bin/clawmigrate

- name: Only report whether anything is pending (never writes)
  clawmigrate.openclaw.migrate:
    state: checked
    state_dir:
      - /home/bot/.openclaw
  register: clawmigrate_check

- name: Undo the run of an earlier task on every install it touched
  clawmigrate.openclaw.migrate:
    state: rolled_back
    run_id: "{{ clawmigrate_run.invocation_id }}"
    fleet:
      - /srv/openclaw
  when: clawmigrate_run.run_ids | length > 0

- name: Accept V0001's changed checksum where the installs record the old one (checked first)
  clawmigrate.openclaw.migrate:
    state: repaired
    rebless: V0001
    rebless_from: "sha256:abababababababababababababababababababababababababababababababab"
    fleet:
      - /srv/openclaw
"""

RETURN = r"""
changed:
  description:
    - Whether files were written (or, in check mode or with O(state=checked), would be).
    - With O(state=repaired), whether a checksum was (or in check mode would be) accepted.
  returned: always
  type: bool
msg:
  description:
    - A one-line summary, or on failure clawmigrate's message and fix for each failing install.
  returned: always
  type: str
  sample: "2 installs: 1 changed, 1 up-to-date"
rc:
  description: The exit code of the clawmigrate command that produced RV(report).
  returned: when clawmigrate ran
  type: int
  sample: 0
cmd:
  description: The clawmigrate command line that produced RV(report) (key file paths masked).
  returned: when clawmigrate ran
  type: list
  elements: str
stderr:
  description: What clawmigrate printed on stderr (progress, warnings; credentials masked).
  returned: when clawmigrate ran
  type: str
report:
  description:
    - The full JSON document clawmigrate printed (schema 3, see the README's "JSON output").
    - With O(state=rolled_back) in check mode, the C(rollback --dry-run) report.
  returned: when clawmigrate ran
  type: dict
installs:
  description: The C(installs) entries of RV(report), one per install found.
  returned: when clawmigrate ran
  type: list
  elements: dict
  sample:
    - state_dir: /srv/openclaw/a
      outcome: changed
      run_id: 20261129T165430Z-520980a60619.1
summary:
  description: The C(summary) of RV(report) (counts of installs per outcome, files, operations).
  returned: when clawmigrate ran
  type: dict
invocation_id:
  description:
    - The invocation id of the run, to pass as O(run_id) to undo the whole run.
      Null when nothing was written.
    - With O(state=rolled_back), the rollback's own invocation id.
    - With O(state=repaired), the repair's own invocation id (a rollback does not undo a
      repair; the accepted checksum stays accepted).
  returned: when clawmigrate ran
  type: str
run_ids:
  description:
    - The per-install run ids written by this task (those to undo one install's part).
    - With O(state=rolled_back), the rollback's own per-install run ids.
    - With O(state=repaired), the repair runs recorded (one per install whose checksum was
      accepted).
  returned: when clawmigrate ran
  type: list
  elements: str
failures:
  description:
    - One entry per problem that failed the task, from clawmigrate's report.
    - C(kind) is stable; for an install error it is clawmigrate's error kind (C(parse), C(io),
      C(permission), C(locked), C(changed), C(confinement), C(not-found), C(unsupported),
      C(limit), C(refused), C(usage); C(error) when clawmigrate gave none), for a finding
      C(needs-input) or C(conflict), for a run-level error its kind (C(usage), C(not-found),
      C(permission), C(limit), C(parse), C(declined); C(error) when clawmigrate gave none).
  returned: always
  type: list
  elements: dict
  contains:
    state_dir:
      description: The install, or null for a run-level error.
      type: str
    outcome:
      description: The install's outcome (C(failed), C(needs-input), C(unsupported), ...).
      type: str
    kind:
      description: The stable kind of the problem.
      type: str
    message:
      description: clawmigrate's message (credentials masked).
      type: str
    fix:
      description: clawmigrate's fix or hint, when it gives one.
      type: str
    migration:
      description: The migration a finding belongs to.
      type: str
    agent:
      description: The agent a finding belongs to.
      type: str
failed_runs:
  description:
    - With O(state=migrated), the installs that failed the task although this run wrote to them
      (an install that needs input after the migrations before the blocked one were written),
      each with C(state_dir) and C(run_id). Undoing these (and only these) is what the role's
      C(clawmigrate_rollback_on_failure) does; the installs migrated in full stay migrated.
  returned: always
  type: list
  elements: dict
  sample:
    - state_dir: /srv/openclaw/b
      run_id: 20261129T165430Z-520980a60619.2
would_roll_back:
  description:
    - With O(state=rolled_back) in check mode, per install the run that would be undone and the
      files that would be restored (C(rollback --dry-run)'s pending installs).
  returned: with O(state=rolled_back) in check mode
  type: list
  elements: dict
diff:
  description:
    - In diff mode, one entry per file that changes, with C(before_header), C(after_header) and
      C(prepared), the unified diff clawmigrate prints (credentials masked).
  returned: in diff mode, with O(state=migrated) or O(state=checked)
  type: list
  elements: dict
"""

import json
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

# An install's header line in clawmigrate's human output: "<absolute state dir> [<outcome>]".
INSTALL_HEADER = re.compile(r"^(/.*) \[([a-z][a-z -]*)\]$")
PROVIDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FAILING_MIGRATE = ("failed", "needs-input", "unsupported")
FAILING_ROLLBACK = ("failed", "pending")
FAILING_REPAIR = ("failed",)
FINDINGS_THAT_FAIL = ("needs-input", "conflict")
FINDINGS_THAT_WARN = ("checksum-changed", "interrupted")
KEY_FILE_READ_LIMIT = 64 * 1024
# A run id as clawmigrate makes it (src/ledger.rs): an invocation id, UTC time and random hex
# digits (4 in the first releases), and for one install's part of it `.N`.
RUN_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4,12}(\.[0-9]{1,9})?\Z")
# How much of the failures the task's message shows; the rest is in the result.
MSG_FAILURES = 5
MSG_FAILURE_CHARS = 300


def fail(module, kind, msg, **result):
    """Fails the task before clawmigrate reports anything: one failure of this kind."""
    result.setdefault("failures", [{"state_dir": None, "outcome": None, "kind": kind,
                                    "message": msg, "fix": None}])
    module.fail_json(msg=msg, **result)


def find_binary(module):
    binary = module.params["binary"]
    if binary:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            fail(module, "not-found",
                 "clawmigrate binary %s is not an executable file%s"
                 % (binary, " (in check mode, a task that would install it did not)"
                    if module.check_mode else ""))
        return binary
    found = module.get_bin_path(
        "clawmigrate", required=False,
        opt_dirs=["/usr/local/bin", os.path.expanduser("~/.cargo/bin")])
    if not found:
        fail(module, "not-found",
             "clawmigrate was not found on PATH, in /usr/local/bin or ~/.cargo/bin; install it "
             "(the role clawmigrate.openclaw.clawmigrate does) or set binary")
    return found


def target_args(p):
    args = []
    for d in p["state_dir"] or []:
        args += ["--state-dir", d]
    for d in p["fleet"] or []:
        args += ["--fleet", d]
    if p["fleet_depth"] is not None:
        args += ["--fleet-depth", str(p["fleet_depth"])]
    if p["profile"]:
        args += ["--profile", p["profile"]]
    return args


def mask_key_file_contents(module, path):
    """Defence in depth: if the key file is a small regular file, its key is added to the values
    Ansible masks in every result. clawmigrate masks keys itself; this guards against a key that
    reaches the output any other way. The key is never returned."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > KEY_FILE_READ_LIMIT:
            return
        with open(path, "rb") as f:
            data = f.read(KEY_FILE_READ_LIMIT).decode("utf-8", "replace").strip()
    except (OSError, IOError):
        return
    if len(data) >= 8:
        module.no_log_values.add(data)


def migrate_args(module):
    p = module.params
    args = []
    for v in p["only"] or []:
        args += ["--only", v]
    for provider, path in sorted((p["key_files"] or {}).items()):
        provider = str(provider)
        path = os.path.expanduser(str(path))
        if not PROVIDER.match(provider):
            fail(module, "usage", "key_files: %r is not a provider name" % provider)
        if not os.path.isabs(path):
            fail(module, "usage",
                 "key_files[%s] must be an absolute path to a file on the host that holds the "
                 "key (the value is not shown)" % provider)
        mask_key_file_contents(module, path)
        args += ["--key-file", "%s=%s" % (provider, path)]
    return args


class Runner(object):
    def __init__(self, module, binary):
        self.module = module
        self.binary = binary

    def run(self, args):
        cmd = [self.binary] + args
        rc, out, err = self.module.run_command(
            cmd, check_rc=False, environ_update={"NO_COLOR": "1"})
        return cmd, rc, out, err

    def json(self, args):
        cmd, rc, out, err = self.run(args)
        try:
            report = json.loads(out)
        except ValueError:
            report = None
        if not isinstance(report, dict) or report.get("schema") != 3:
            fail(self.module, "error",
                 "clawmigrate did not print a schema 3 JSON report (exit %d): %s"
                 % (rc, (err or out).strip()[-MSG_FAILURE_CHARS:]),
                 rc=rc, cmd=cmd, stderr=err)
        return cmd, rc, report, err


def error_parts(error):
    """An install's or run's error: a plain string or {"kind", "message", "hint"}."""
    if isinstance(error, dict):
        kind = error.get("kind") or "error"
        message = error.get("message") or json.dumps(error, sort_keys=True)
        fix = error.get("fix") or error.get("hint")
    else:
        kind, message, fix = "error", str(error), None
    if fix is None and "\n" in message:
        head, sep, tail = message.partition("hint:")
        if sep:
            message, fix = head.rstrip(), tail.strip()
    return kind, message.strip(), fix


def collect(report, failing_outcomes, check_findings=True):
    failures, warnings = [], []
    for inst in report.get("installs") or []:
        sd = inst.get("state_dir")
        outcome = inst.get("outcome")
        before = len(failures)
        if inst.get("error") is not None:
            kind, message, fix = error_parts(inst["error"])
            failures.append({"state_dir": sd, "outcome": outcome, "kind": kind,
                             "message": message, "fix": fix})
        for f in (inst.get("findings") or []) if check_findings else []:
            kind = f.get("kind")
            if kind in FINDINGS_THAT_FAIL:
                failures.append({"state_dir": sd, "outcome": outcome, "kind": kind,
                                 "message": f.get("message"), "fix": f.get("fix"),
                                 "migration": f.get("migration"), "agent": f.get("agent")})
            elif kind in FINDINGS_THAT_WARN:
                warnings.append("%s: %s: %s%s" % (sd, kind, f.get("message"),
                                                  " (fix: %s)" % f["fix"] if f.get("fix") else ""))
        if outcome in failing_outcomes and len(failures) == before:
            kind = outcome if outcome != "failed" else "error"
            failures.append({"state_dir": sd, "outcome": outcome, "kind": kind,
                             "message": inst.get("reason") or outcome, "fix": None})
    for e in report.get("errors") or []:
        kind, message, fix = error_parts(e)
        failures.append({"state_dir": None, "outcome": None, "kind": kind,
                         "message": message, "fix": fix})
    return failures, warnings


def cut(text, limit=MSG_FAILURE_CHARS):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def failure_text(failures):
    """The task's message: each failing install (or the run) with the kind of failure and
    clawmigrate's message, cut short, and at most MSG_FAILURES of them; the whole of each is in
    RV(failures), and the report in RV(report)."""
    seen, parts = set(), []
    for f in failures:
        line = "%s%s: %s" % ("%s: " % f["state_dir"] if f.get("state_dir") else "",
                             f["kind"], f["message"])
        if f.get("fix"):
            line += " (fix: %s)" % f["fix"]
        if line not in seen:
            seen.add(line)
            parts.append(cut(line))
    text = "; ".join(parts[:MSG_FAILURES])
    if len(parts) > MSG_FAILURES:
        text += "; and %d more (see failures)" % (len(parts) - MSG_FAILURES)
    return text


def failed_runs(report, failures):
    """The installs that failed the task yet were written by this run: their run ids."""
    failing = set(f["state_dir"] for f in failures if f.get("state_dir"))
    return [{"state_dir": i["state_dir"], "run_id": i["run_id"]}
            for i in report.get("installs") or []
            if i.get("state_dir") in failing and i.get("run_id")]


def summary_text(report):
    installs = report.get("installs") or []
    counts = {}
    for inst in installs:
        counts[inst.get("outcome")] = counts.get(inst.get("outcome"), 0) + 1
    text = "%d install%s" % (len(installs), "" if len(installs) == 1 else "s")
    if counts:
        text += ": " + ", ".join("%d %s" % (n, o) for o, n in sorted(counts.items()))
    return text


def split_diffs(text):
    """Splits clawmigrate's human dry-run output into one Ansible diff per file."""
    diffs = []
    install = None
    cur = None
    lines = text.splitlines()

    def flush(cur):
        if cur is None:
            return
        body = cur["lines"]
        while body and body[-1] == "":
            body.pop()
        rel, root = cur["rel"], cur["install"]
        path = rel if rel.startswith("/") or root is None else "%s/%s" % (root.rstrip("/"), rel)
        diffs.append({
            "before_header": path,
            "after_header": path,
            "prepared": "--- %s (before)\n+++ %s (after)\n%s\n" % (path, path, "\n".join(body)),
        })

    i = 0
    while i < len(lines):
        line = lines[i]
        m = INSTALL_HEADER.match(line)
        if m:
            flush(cur)
            cur, install = None, m.group(1)
        elif line.startswith("Recap:"):
            flush(cur)
            cur, install = None, None
        elif line.startswith("--- a/") and i + 1 < len(lines) and lines[i + 1].startswith("+++ b/"):
            flush(cur)
            cur = {"install": install, "rel": line[len("--- a/"):], "lines": []}
            i += 1
        elif cur is not None:
            cur["lines"].append(line)
        i += 1
    flush(cur)
    return diffs


def rollback_prediction(report):
    """What `rollback --yes` would undo, from `rollback --dry-run`: its pending installs."""
    return [{"state_dir": i.get("state_dir"), "run_id": i.get("run_id"),
             "files": [f.get("path") for f in i.get("files") or []]}
            for i in report.get("installs") or [] if i.get("outcome") == "pending"]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state_dir=dict(type="list", elements="path", default=[]),
            fleet=dict(type="list", elements="path", default=[]),
            fleet_depth=dict(type="int"),
            profile=dict(type="str"),
            only=dict(type="list", elements="str", default=[]),
            key_files=dict(type="dict", default={}, no_log=True),
            binary=dict(type="path"),
            state=dict(type="str", default="migrated",
                       choices=["migrated", "checked", "rolled_back", "repaired"]),
            run_id=dict(type="str"),
            force=dict(type="bool", default=False),
            rebless=dict(type="str"),
            rebless_from=dict(type="str"),
        ),
        required_if=[("state", "repaired", ("rebless", "rebless_from"))],
        supports_check_mode=True,
    )
    p = module.params
    state = p["state"]
    if p["run_id"] and state != "rolled_back":
        fail(module, "usage", "run_id applies only to state=rolled_back")
    if p["force"] and state != "rolled_back":
        fail(module, "usage", "force applies only to state=rolled_back")
    for name in ("rebless", "rebless_from"):
        if p[name] and state != "repaired":
            fail(module, "usage", "%s applies only to state=repaired" % name)
    # The run id goes to clawmigrate after `--`, and only with a run id's shape: never as an
    # option (`--force`, `--fleet=DIR`).
    if p["run_id"] is not None and not RUN_ID.match(p["run_id"]):
        fail(module, "usage",
             "run_id %s is not a clawmigrate run id (like 20261129T154818Z-3f9a1c2e7b10, or "
             "20261129T154818Z-3f9a1c2e7b10.1 for one install; clawmigrate rollback --list shows "
             "them)" % json.dumps(cut(p["run_id"], 80)))

    binary = find_binary(module)
    runner = Runner(module, binary)
    targets = target_args(p)
    result = dict(changed=False, failures=[])
    # The exit codes that go with the report's outcomes; another one with no failure in the
    # report is a failure of its own (rollback's are all in its report).
    expected = None

    if state == "rolled_back":
        if p["only"] or p["key_files"]:
            module.warn("only and key_files are ignored with state=rolled_back")
        args = ["rollback", "--dry-run" if module.check_mode else "--yes"]
        args += ["--force"] if p["force"] else []
        args += ["--format", "json"] + targets + (["--", p["run_id"]] if p["run_id"] else [])
        if module.check_mode:
            cmd, rc, report, err = runner.json(args)
            failures, warnings = collect(report, ("failed",), check_findings=False)
            would = rollback_prediction(report)
            result.update(changed=bool(would), would_roll_back=would)
            msg = "would undo %d run%s" % (len(would), "" if len(would) == 1 else "s")
        else:
            cmd, rc, report, err = runner.json(args)
            failures, warnings = collect(report, FAILING_ROLLBACK, check_findings=False)
            result["changed"] = any(i.get("outcome") == "rolled-back"
                                    for i in report.get("installs") or [])
            msg = summary_text(report)
    elif state == "repaired":
        if p["only"] or p["key_files"]:
            module.warn("only and key_files are ignored with state=repaired")
        # The dry run reports the installs it would accept the checksum on as "pending"; the
        # real run reports them "changed", with the repair's run id.
        mode, accepted = (["--dry-run"], "pending") if module.check_mode else (["--yes"], "changed")
        cmd, rc, report, err = runner.json(
            ["repair", "--rebless", p["rebless"], "--from", p["rebless_from"]] + mode
            + ["--format", "json"] + targets)
        failures, warnings = collect(report, FAILING_REPAIR, check_findings=False)
        result["changed"] = any(i.get("outcome") == accepted for i in report.get("installs") or [])
        msg = summary_text(report)
        expected = (0,)
    else:
        extra = migrate_args(module)
        if module._diff:
            _cmd, _rc, out, _err = runner.run(["migrate", "--dry-run"] + extra + targets)
            result["diff"] = split_diffs(out)
        if state == "checked":
            mode = ["--check"]
        elif module.check_mode:
            mode = ["--dry-run"]
        else:
            mode = ["--yes"]
        cmd, rc, report, err = runner.json(["migrate"] + mode + ["--format", "json"] + extra + targets)
        failures, warnings = collect(report, FAILING_MIGRATE)
        installs = report.get("installs") or []
        summary = report.get("summary") or {}
        if mode == ["--yes"]:
            result["changed"] = any(i.get("run_id") for i in installs) or \
                bool(summary.get("changed"))
        else:
            result["changed"] = bool(summary.get("files"))
        msg = summary_text(report)
        expected = (0, 1) if state == "checked" else (0,)

    if expected and rc not in expected and not failures:
        failures.append({"state_dir": None, "outcome": None, "kind": "error",
                         "message": "clawmigrate exited %d: %s" % (rc, err.strip()[-2000:]),
                         "fix": None})
    for w in warnings:
        module.warn(w)
    installs = report.get("installs") or []
    if state == "rolled_back":
        run_ids = [i["rollback_run_id"] for i in installs if i.get("rollback_run_id")]
    else:
        run_ids = [i["run_id"] for i in installs if i.get("run_id")]
    result.update(
        rc=rc, cmd=cmd, stderr=err, report=report, installs=installs,
        summary=report.get("summary") or {},
        invocation_id=report.get("invocation_id") if run_ids else None,
        run_ids=run_ids, failures=failures,
        failed_runs=failed_runs(report, failures) if state == "migrated" else [],
    )
    if failures:
        module.fail_json(msg=failure_text(failures), **result)
    module.exit_json(msg=msg, **result)


if __name__ == "__main__":
    main()
