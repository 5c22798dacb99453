//! A plan as output shows it (JSON documents, saved plans): its RFC 6902 operations and its
//! findings, typed, with every credential masked.
use super::{FilePlan, Finding, InstallPlan};
use crate::document::patch::{Op, TaggedOp};
use crate::secrets::Redactor;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// One RFC 6902 operation of a planned change, tagged with the migration that planned it;
/// pointers and values masked. Its members come in `json-patch`'s order (`op`, `from`, `path`,
/// `value`), then `migration`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum MaskedOp {
    Add {
        path: String,
        value: Value,
        migration: String,
    },
    Remove {
        path: String,
        migration: String,
    },
    Replace {
        path: String,
        value: Value,
        migration: String,
    },
    Move {
        from: String,
        path: String,
        migration: String,
    },
    Copy {
        from: String,
        path: String,
        migration: String,
    },
    /// A guard: the value the change was planned against (not counted as a change).
    Test {
        path: String,
        value: Value,
        migration: String,
    },
}

impl MaskedOp {
    /// `t` with its pointers, value and migration passed through `r`.
    pub fn of(t: &TaggedOp, r: &Redactor) -> MaskedOp {
        let ptr = |p: &crate::document::patch::PointerBuf| r.redact(p.as_str());
        let migration = r.redact(&t.migration);
        match &t.op {
            Op::Add(o) => MaskedOp::Add {
                path: ptr(&o.path),
                value: r.redact_value(&o.value),
                migration,
            },
            Op::Remove(o) => MaskedOp::Remove {
                path: ptr(&o.path),
                migration,
            },
            Op::Replace(o) => MaskedOp::Replace {
                path: ptr(&o.path),
                value: r.redact_value(&o.value),
                migration,
            },
            Op::Move(o) => MaskedOp::Move {
                from: ptr(&o.from),
                path: ptr(&o.path),
                migration,
            },
            Op::Copy(o) => MaskedOp::Copy {
                from: ptr(&o.from),
                path: ptr(&o.path),
                migration,
            },
            Op::Test(o) => MaskedOp::Test {
                path: ptr(&o.path),
                value: r.redact_value(&o.value),
                migration,
            },
        }
    }
}

impl InstallPlan {
    /// A file's RFC 6902 patch with every credential masked (JSON output, saved plans).
    pub fn masked_patch(&self, f: &FilePlan) -> Vec<MaskedOp> {
        f.ops
            .iter()
            .map(|t| MaskedOp::of(t, &self.redactor))
            .collect()
    }

    /// The findings with every credential masked.
    pub fn masked_findings(&self) -> Vec<Finding> {
        let r = &self.redactor;
        let masked = |s: &String| r.redact(s);
        self.findings
            .iter()
            .map(|f| Finding {
                migration: masked(&f.migration),
                kind: f.kind,
                agent: f.agent.as_ref().map(masked),
                message: masked(&f.message),
                fix: f.fix.as_ref().map(masked),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::patch;
    use serde_json::json;

    /// The typed operation serialises as `json-patch` does (members and order), plus the tag,
    /// for every kind of operation.
    #[test]
    fn every_operation_serialises_as_json_patch_does() {
        let r = Redactor::default();
        let ops = [
            patch::add("/a", json!(1)).unwrap(),
            patch::test("/a", json!({"b": [1]})).unwrap(),
            Op::Remove(patch::RemoveOperation {
                path: patch::parse("/a~1b").unwrap(),
            }),
            Op::Replace(patch::ReplaceOperation {
                path: patch::parse("/a").unwrap(),
                value: json!("x"),
            }),
            Op::Move(patch::MoveOperation {
                from: patch::parse("/a").unwrap(),
                path: patch::parse("/b").unwrap(),
            }),
            Op::Copy(json_patch::CopyOperation {
                from: patch::parse("/a").unwrap(),
                path: patch::parse("/c").unwrap(),
            }),
        ];
        for op in ops {
            let t = TaggedOp {
                op,
                migration: "V0001".into(),
            };
            let want = serde_json::to_string(&t).unwrap();
            let got = serde_json::to_string(&MaskedOp::of(&t, &r)).unwrap();
            assert_eq!(got, want);
        }
    }

    /// A credential in a pointer or a value is masked (the value's member names too).
    #[test]
    fn credentials_in_pointers_and_values_are_masked() {
        const K: &str = "sk-cp-QSECRET999";
        let mut r = Redactor::default();
        r.add(K);
        let t = TaggedOp {
            op: patch::add(&format!("/env/{K}"), json!({K: [K]})).unwrap(),
            migration: "V0002".into(),
        };
        let shown = serde_json::to_string(&MaskedOp::of(&t, &r)).unwrap();
        assert!(!shown.contains(K), "{shown}");
        assert!(shown.contains("/env/"), "{shown}");
    }
}
