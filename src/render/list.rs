//! `list` for people: each migration built in, what it changes, and when it runs.
use crate::migration::Migration;
use std::fmt::Write as _;

/// The migrations, in the order they run, three lines each.
pub fn human(migrations: &[Migration]) -> String {
    let mut out = String::new();
    for m in migrations {
        let files: Vec<&str> = m.files().iter().map(|f| f.as_str()).collect();
        let _ = writeln!(out, "{}  {}", m.id(), m.def.summary);
        let _ = writeln!(
            out,
            "    changes: {}; checksum {}",
            files.join(", "),
            &m.checksum[..15]
        );
        let _ = match &m.def.upstream {
            Some(u) => writeln!(
                out,
                "    upgrade to OpenClaw {} (with --to): doctor's {}",
                u.openclaw,
                u.ids.join(", ")
            ),
            None if m.def.opt_in => writeln!(
                out,
                "    opt-in repair: runs only when named (--only {})",
                m.tag()
            ),
            None => writeln!(out, "    repair: runs whatever the release"),
        };
    }
    out
}
