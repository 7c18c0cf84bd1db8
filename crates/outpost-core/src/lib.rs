//! Outpost's pure domain.
//!
//! Architecture invariant: nothing in this crate does I/O, spawns, sleeps or reads a clock. Time
//! arrives as a `now` argument and configuration as values, so every rule is deterministic and
//! property-testable, and the client, the server and the local cache share one implementation.

pub mod apply;
pub mod audit;
pub mod audit_export;
pub mod error;
pub mod files;
pub mod model;
pub mod rules;
pub mod settings;
pub mod sla;
pub mod status;
pub mod sync;

/// A language the core renders people-facing text in (SLA explanations, refusal reasons). The
/// product ships in English and Simplified Chinese.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Lang {
    /// The language for a BCP 47 tag: any `zh` tag is Chinese, everything else English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("zh")) {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }
}
