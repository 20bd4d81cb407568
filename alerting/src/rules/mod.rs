//! One detector per rule type, each a state machine over event time in its own file, behind
//! the interface every rule implements ([`DetectorState`]). [`Detector`] is a thin dispatcher
//! over them and is what checkpoints hold per rule.
//!
//! Adding a rule type: its message in `proto/vigie/v1/watch.proto` (a new `Rule.kind`), its
//! parsing and validation in `core/src/rules.rs`, a file here whose state implements
//! [`DetectorState`] (overriding only the hooks it needs), and one line in the `rule_types!`
//! list below. Nothing in the engine.

pub mod escalation;
pub mod flatline;
pub mod negative;
pub mod new_term;
pub mod risky;
pub mod threshold;
pub mod unanswered;
pub mod volume;

use crate::detector::{DetectorState, Observed, ReplyKey, Signal};
use serde::{Deserialize, Serialize};
use vigie_core::proto::rule::Kind;

/// Declares [`Detector`] from the list of rule types and writes its dispatch to each type's
/// [`DetectorState`]. Each entry is `Variant(StateType)`, named like the rule's variant of
/// [`Kind`]. A `stateless` rule type is a unit variant (its state type is a unit struct, made
/// afresh for each call). The variant names and payload types are what checkpoints hold:
/// never rename them.
macro_rules! rule_types {
    (
        stateful { $( $(#[$doc:meta])* $variant:ident($state:ty), )* }
        stateless { $( $(#[$sdoc:meta])* $svariant:ident($sstate:ty), )* }
    ) => {
        /// The state of one rule's detector, by rule type.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        pub enum Detector {
            $( $(#[$doc])* $variant($state), )*
            $( $(#[$sdoc])* $svariant, )*
        }

        impl Detector {
            /// Fresh state for a rule of this kind.
            pub fn new(kind: &Kind) -> Self {
                match kind {
                    $( Kind::$variant(r) => Detector::$variant(<$state as DetectorState>::new(r)), )*
                    $( Kind::$svariant(_) => Detector::$svariant, )*
                }
            }

            /// Feeds one mention the watch matched (see [`DetectorState::observe`]).
            pub fn observe(&mut self, kind: &Kind, o: &Observed, out: &mut Vec<Signal>) {
                match (self, kind) {
                    $( (Detector::$variant(s), Kind::$variant(r)) => s.observe(r, o, out), )*
                    $( (Detector::$svariant, Kind::$svariant(r)) => <$sstate>::default().observe(r, o, out), )*
                    _ => {}
                }
            }

            /// Moves the detector's clock to the tenant's watermark (see
            /// [`DetectorState::advance`]).
            pub fn advance(&mut self, kind: &Kind, watermark: i64, out: &mut Vec<Signal>) {
                match (self, kind) {
                    $( (Detector::$variant(s), Kind::$variant(r)) => s.advance(r, watermark, out), )*
                    $( (Detector::$svariant, Kind::$svariant(r)) => <$sstate>::default().advance(r, watermark, out), )*
                    _ => {}
                }
            }

            /// Passes a mention found under a key this detector awaits (see
            /// [`DetectorState::on_reply`]).
            pub fn on_reply(&mut self, kind: &Kind, reply: &Observed, out: &mut Vec<Signal>) {
                match (self, kind) {
                    $( (Detector::$variant(s), Kind::$variant(r)) => s.on_reply(r, reply, out), )*
                    $( (Detector::$svariant, Kind::$svariant(r)) => <$sstate>::default().on_reply(r, reply, out), )*
                    _ => {}
                }
            }

            /// The keys under which it awaits an answer to the mention it just observed (see
            /// [`DetectorState::reply_keys`]); a stateless detector awaits nothing.
            pub fn reply_keys(&self, o: &Observed) -> Vec<ReplyKey> {
                match self {
                    $( Detector::$variant(s) => s.reply_keys(o), )*
                    $( Detector::$svariant => Vec::new(), )*
                }
            }

            /// Every key it awaits an answer under (see [`DetectorState::awaiting`]).
            pub fn awaiting(&self) -> Vec<ReplyKey> {
                match self {
                    $( Detector::$variant(s) => s.awaiting(), )*
                    $( Detector::$svariant => Vec::new(), )*
                }
            }

            /// Whether each occurrence of a rule of this kind is its own alert (see
            /// [`DetectorState::EPISODIC`]).
            pub fn episodic(kind: &Kind) -> bool {
                match kind {
                    $( Kind::$variant(_) => <$state as DetectorState>::EPISODIC, )*
                    $( Kind::$svariant(_) => <$sstate as DetectorState>::EPISODIC, )*
                }
            }

            /// How long a fired episode of a rule of this kind stays reserved (see
            /// [`DetectorState::episode_memory_ms`]).
            pub fn episode_memory_ms(kind: &Kind) -> i64 {
                match kind {
                    $( Kind::$variant(r) => <$state as DetectorState>::episode_memory_ms(r), )*
                    $( Kind::$svariant(r) => <$sstate as DetectorState>::episode_memory_ms(r), )*
                }
            }

            /// How long an episodic alert of a rule of this kind stays open at least (see
            /// [`DetectorState::keep_open_ms`]).
            pub fn keep_open_ms(kind: &Kind) -> i64 {
                match kind {
                    $( Kind::$variant(r) => <$state as DetectorState>::keep_open_ms(r), )*
                    $( Kind::$svariant(r) => <$sstate as DetectorState>::keep_open_ms(r), )*
                }
            }
        }
    };
}

rule_types! {
    stateful {
        /// `threshold`.
        Threshold(threshold::ThresholdState),
        /// `volume_spike`.
        VolumeSpike(volume::VolumeSpikeState),
        /// `negative_surge`.
        NegativeSurge(negative::NegativeSurgeState),
        /// `new_term`.
        NewTerm(new_term::NewTermState),
        /// `flatline`.
        Flatline(flatline::FlatlineState),
        /// `escalation`.
        Escalation(escalation::EscalationState),
        /// `unanswered`.
        Unanswered(unanswered::UnansweredState),
    }
    stateless {
        /// `risky_mention` (stateless: each mention stands alone).
        RiskyMention(risky::RiskyMentionState),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::proto::{FlatlineRule, RiskyMentionRule, ThresholdRule};

    /// Checkpoints written by the previous version name each detector by variant, a stateless
    /// one as a bare string: they must keep restoring.
    #[test]
    fn the_checkpoint_form_of_detectors_is_unchanged() {
        let risky = Detector::new(&Kind::RiskyMention(RiskyMentionRule::default()));
        assert_eq!(serde_json::to_string(&risky).unwrap(), "\"RiskyMention\"");
        assert!(matches!(
            serde_json::from_str::<Detector>("\"RiskyMention\"").unwrap(),
            Detector::RiskyMention
        ));
        let threshold = Detector::new(&Kind::Threshold(ThresholdRule::default()));
        let json = serde_json::to_string(&threshold).unwrap();
        assert!(json.starts_with("{\"Threshold\":{"), "{json}");
        let flatline = Detector::new(&Kind::Flatline(FlatlineRule {
            window_seconds: 900,
            ..Default::default()
        }));
        let json = serde_json::to_string(&flatline).unwrap();
        assert!(json.starts_with("{\"Flatline\":{"), "{json}");
        assert!(matches!(
            serde_json::from_str::<Detector>(&json).unwrap(),
            Detector::Flatline(_)
        ));
        // An escalation chain names audiences as before `Stage` became `Audience`.
        let old = r#"{"Escalation":{"tracks":{"watch":{"chains":[[["Private",1,"a","whatsapp"],["Press",2,"b","news"]],[],[]],"last_ms":2}}}}"#;
        let restored = serde_json::from_str::<Detector>(old).unwrap();
        assert_eq!(serde_json::to_string(&restored).unwrap(), old);
    }
}
