//! Files the config pulls in with `$include` are documents too: a value is fixed in the file
//! that defines it, shown under that file's name, backed up and rolled back; includes are
//! followed as OpenClaw follows them (nested, arrays, relative to the including file), and
//! never flattened; one that leaves the install, or a cycle, is refused by name.
use crate::oracle::{missing, validate};
use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const OLD_URL: &str =
    "baseUrl: \"https://api.minimax.io/anthropic\", // copied from the global docs";
const NEW_URL: &str =
    "baseUrl: \"https://api.minimaxi.com/anthropic\", // copied from the global docs";
const AUTH_LINE: &str =
    "      \"minimax:default\": { provider: \"minimax\", mode: \"api_key\" },\n";
const CN_AUTH_LINE: &str =
    "      \"minimax-cn:default\": { provider: \"minimax-cn\", mode: \"api_key\" },\n";

/// The demo install with its `models` section moved, comments and all, into `models.json5`
/// (`models: { $include: "./models.json5" }`): the seed fault lives in the included file.
fn include_demo(sb: &Sandbox, name: &str) -> PathBuf {
    let st = sb.demo(name);
    let cfg = read(st.join("openclaw.json"));
    let (a, b) = (
        cfg.find("  models: {").unwrap(),
        cfg.find("  agents: {").unwrap(),
    );
    let section = cfg[a + "  models: ".len()..b]
        .trim_end()
        .trim_end_matches(',');
    let body: Vec<&str> = section
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect();
    write(
        st.join("models.json5"),
        &format!(
            "// Providers, kept apart from openclaw.json.\n{}\n",
            body.join("\n")
        ),
    );
    write(
        st.join("openclaw.json"),
        &format!(
            "{}  models: {{ $include: \"./models.json5\" }},\n{}",
            &cfg[..a],
            &cfg[b..]
        ),
    );
    st
}

fn file<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["installs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(path))
        .unwrap_or_else(|| panic!("no file {path} in {report}"))
}

#[test]
fn the_seed_fault_in_an_included_file_is_fixed_there() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    let before = tree(&st, false);
    let (cfg, models) = (
        read(st.join("openclaw.json")),
        read(st.join("models.json5")),
    );
    assert!(models.contains(OLD_URL) && !cfg.contains("baseUrl"));

    // The dry run shows the edit under the included file's name, where the value is defined.
    let out = sb.run(&["migrate", "--dry-run"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("--- a/models.json5\n+++ b/models.json5\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("-      {OLD_URL}\n+      {NEW_URL}\n")),
        "{text}"
    );
    assert!(!text.contains("pulls in other files"), "{text}");
    let report = json_of(&sb.run(&["migrate", "--dry-run", "--format", "json"], &st));
    let included = file(&report, "models.json5");
    assert_eq!(included["kind"], "config");
    let paths: Vec<&str> = included["patch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/providers/minimax-cn/baseUrl",
            "/providers/minimax-cn/baseUrl"
        ]
    );
    assert_eq!(tree(&st, false), before, "a dry run writes nothing");

    // Applied byte-minimally in the included file; the config keeps its $include and changes
    // only where V0002 adds the profile's metadata.
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(
        read(st.join("models.json5")),
        models.replace(OLD_URL, NEW_URL)
    );
    assert_eq!(
        read(st.join("openclaw.json")),
        cfg.replace(AUTH_LINE, &format!("{AUTH_LINE}{CN_AUTH_LINE}"))
    );
    sb.cli(&["migrate", "--check"], &st).code(0);
    let manifest = json(only_backup_set(&st).join("manifest.json"));
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "models.json5"),
        "{manifest}"
    );

    // Rollback restores every file, the included one too.
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn nested_includes_are_followed_from_the_including_files_folder() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    // models.json5 moves to conf.d/ and its providers to conf.d/providers.json5, named relative
    // to conf.d/; the auth section moves to auth.json5, included at the top beside other keys.
    let models = read(st.join("models.json5"));
    std::fs::remove_file(st.join("models.json5")).unwrap();
    let (a, b) = (
        models.find("  providers: {").unwrap(),
        models.rfind("\n}").unwrap(),
    );
    let providers: Vec<&str> = models[a + "  providers: ".len()..b]
        .trim_end()
        .trim_end_matches(',')
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect();
    std::fs::create_dir(st.join("conf.d")).unwrap();
    write(
        st.join("conf.d/providers.json5"),
        &format!("{}\n", providers.join("\n")),
    );
    write(
        st.join("conf.d/models.json5"),
        &format!(
            "{}  providers: {{ $include: \"./providers.json5\" }},\n}}\n",
            &models[..a]
        ),
    );
    let cfg = read(st.join("openclaw.json")).replace(
        "models: { $include: \"./models.json5\" }",
        "models: { $include: \"./conf.d/models.json5\" }",
    );
    let (a, b) = (
        cfg.find("  auth: {").unwrap(),
        cfg.find("  models: {").unwrap(),
    );
    write(st.join("auth.json5"), &format!("{{\n{}}}\n", &cfg[a..b]));
    let cfg = format!("{}  $include: \"./auth.json5\",\n{}", &cfg[..a], &cfg[b..]);
    write(st.join("openclaw.json"), &cfg);
    let before = tree(&st, false);

    let out = sb.run(&["migrate", "--yes"], &st);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("--- a/conf.d/providers.json5"), "{text}");
    assert!(text.contains("--- a/auth.json5"), "{text}");
    let after = tree(&st, false);
    for unchanged in ["openclaw.json", "conf.d/models.json5"] {
        assert_eq!(
            after[Path::new(unchanged)],
            before[Path::new(unchanged)],
            "{unchanged}"
        );
    }
    assert_eq!(
        read(st.join("conf.d/providers.json5")),
        String::from_utf8(before[Path::new("conf.d/providers.json5")].clone())
            .unwrap()
            .replace(OLD_URL, NEW_URL)
    );
    assert!(read(st.join("auth.json5")).contains(CN_AUTH_LINE.trim_start()));
    sb.cli(&["migrate", "--check"], &st).code(0);
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn an_include_array_is_fixed_in_the_file_whose_value_wins() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    // A later file of the array overrides the host (OpenClaw deep-merges them in order): that
    // is the value OpenClaw uses, so that is the one fixed; the shadowed one is left alone.
    let cfg = read(st.join("openclaw.json")).replace(
        "models: { $include: \"./models.json5\" }",
        "models: { $include: [\"./models.json5\", \"./cn-host.json5\"] }",
    );
    write(st.join("openclaw.json"), &cfg);
    write(
        st.join("cn-host.json5"),
        "// Where the China account talks to.\n{ providers: { 'minimax-cn': { baseUrl: 'https://api.minimax.io/anthropic' } } }\n",
    );
    let models = read(st.join("models.json5"));
    let before = tree(&st, false);
    sb.cli(&["migrate", "--yes"], &st).success();
    assert_eq!(
        read(st.join("cn-host.json5")),
        "// Where the China account talks to.\n{ providers: { 'minimax-cn': { baseUrl: 'https://api.minimaxi.com/anthropic' } } }\n"
    );
    assert_eq!(read(st.join("models.json5")), models);
    sb.cli(&["migrate", "--check"], &st).code(0);
    sb.cli(&["rollback", "--yes"], &st).success();
    assert_eq!(tree(&st, false), before);
}

#[test]
fn an_include_outside_the_install_is_refused_by_name() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    let shared = sb.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::rename(st.join("models.json5"), shared.join("models.json5")).unwrap();
    let cfg = read(st.join("openclaw.json")).replace("./models.json5", "../shared/models.json5");
    write(st.join("openclaw.json"), &cfg);
    let (before, outside) = (tree(&st, true), read(shared.join("models.json5")));
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    let install = &report["installs"][0];
    assert_eq!(install["outcome"], "failed", "{report}");
    let error = install["error"]["message"].as_str().unwrap();
    let named = shared.join("models.json5").display().to_string();
    assert!(
        error.contains(&named) && error.contains("outside the install"),
        "{error}"
    );
    assert_eq!(tree(&st, true), before);
    assert_eq!(read(shared.join("models.json5")), outside);
}

#[test]
fn a_cycle_or_a_missing_include_is_refused() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    let models = read(st.join("models.json5"));
    write(
        st.join("models.json5"),
        &models.replacen("{\n", "{\n  $include: \"./more.json5\",\n", 1),
    );
    write(st.join("more.json5"), "{ $include: './models.json5' }\n");
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let error = json_of(&out)["installs"][0]["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let m = |n: &str| st.join(n).display().to_string();
    assert!(
        error.contains("makes a cycle")
            && error.contains(&format!(
                "{} -> {} -> {}",
                m("models.json5"),
                m("more.json5"),
                m("models.json5")
            )),
        "{error}"
    );
    assert_eq!(tree(&st, true), before);

    std::fs::remove_file(st.join("more.json5")).unwrap();
    let out = sb.run(&["migrate", "--dry-run", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let error = json_of(&out)["installs"][0]["error"].to_string();
    assert!(
        error.contains("more.json5") && error.contains("does not exist"),
        "{error}"
    );
}

#[test]
fn openclaw_agrees_on_the_migrated_include_install() {
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    // 2026.2.3 reads the include too: before the run both agents miss the provider's key.
    for agent in ["main", "minimax-cn"] {
        assert_eq!(missing(&st, agent), ["minimax-cn"], "before, agent {agent}");
    }
    sb.cli(&["migrate", "--yes"], &st).success();
    assert!(read(st.join("openclaw.json")).contains("models: { $include: \"./models.json5\" }"));
    for agent in ["main", "minimax-cn"] {
        assert_eq!(
            missing(&st, agent),
            Vec::<String>::new(),
            "after, agent {agent}"
        );
    }
    let v = validate(&st);
    assert_eq!(v["valid"], true, "{v}");
}

/// An included file its owner may not read fails the install with kind `permission` (as the
/// config itself would), not `parse`; nothing is written.
#[test]
fn an_unreadable_include_is_a_permission_failure() {
    use std::os::unix::fs::PermissionsExt;
    require_root();
    let sb = Sandbox::new();
    let st = include_demo(&sb, "state");
    chown_tree(&st, 4242);
    std::fs::set_permissions(
        st.join("models.json5"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let before = tree(&st, true);
    let out = sb.run(&["migrate", "--yes", "--format", "json"], &st);
    assert_eq!(out.status.code(), Some(2));
    let e = &json_of(&out)["installs"][0]["error"];
    assert_eq!(e["kind"], "permission", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("models.json5"),
        "{e}"
    );
    assert_eq!(tree(&st, true), before);
}
