//! One detector per rule type, each a state machine over event time (see [`crate::detector`]).
//! [`Detector`] dispatches to them and is what checkpoints hold per rule.

pub mod escalation;
pub mod flatline;
pub mod negative;
pub mod new_term;
pub mod risky;
pub mod threshold;
pub mod unanswered;
pub mod volume;

use crate::detector::{Observed, Signal};
use serde::{Deserialize, Serialize};
use vigie_core::proto::rule::Kind;

/// The state of one rule's detector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Detector {
    /// `threshold`.
    Threshold(threshold::ThresholdState),
    /// `volume_spike`.
    VolumeSpike(volume::VolumeSpikeState),
    /// `negative_surge`.
    NegativeSurge(negative::NegativeSurgeState),
    /// `risky_mention` (stateless: each mention stands alone).
    RiskyMention,
    /// `new_term`.
    NewTerm(new_term::NewTermState),
    /// `flatline`.
    Flatline(flatline::FlatlineState),
    /// `escalation`.
    Escalation(escalation::EscalationState),
    /// `unanswered`.
    Unanswered(unanswered::UnansweredState),
}

impl Detector {
    /// Fresh state for a rule of this kind.
    pub fn new(kind: &Kind) -> Self {
        match kind {
            Kind::Threshold(_) => Detector::Threshold(Default::default()),
            Kind::VolumeSpike(r) => Detector::VolumeSpike(volume::VolumeSpikeState::new(r)),
            Kind::NegativeSurge(r) => Detector::NegativeSurge(negative::NegativeSurgeState::new(r)),
            Kind::RiskyMention(_) => Detector::RiskyMention,
            Kind::NewTerm(_) => Detector::NewTerm(Default::default()),
            Kind::Flatline(r) => Detector::Flatline(flatline::FlatlineState::new(r)),
            Kind::Escalation(_) => Detector::Escalation(Default::default()),
            Kind::Unanswered(_) => Detector::Unanswered(Default::default()),
        }
    }

    /// Feeds one mention the watch matched.
    pub fn observe(&mut self, kind: &Kind, o: &Observed, out: &mut Vec<Signal>) {
        match (self, kind) {
            (Detector::Threshold(s), Kind::Threshold(r)) => s.observe(r, o, out),
            (Detector::VolumeSpike(s), Kind::VolumeSpike(r)) => s.observe(r, o, out),
            (Detector::NegativeSurge(s), Kind::NegativeSurge(r)) => s.observe(r, o, out),
            (Detector::RiskyMention, Kind::RiskyMention(r)) => risky::observe(r, o, out),
            (Detector::NewTerm(s), Kind::NewTerm(r)) => s.observe(r, o, out),
            (Detector::Flatline(s), Kind::Flatline(r)) => s.observe(r, o, out),
            (Detector::Escalation(s), Kind::Escalation(r)) => s.observe(r, o, out),
            (Detector::Unanswered(s), Kind::Unanswered(r)) => s.observe(r, o),
            _ => {}
        }
    }

    /// Moves the detector's clock to the tenant's watermark (closing windows, checking deadlines).
    pub fn advance(&mut self, kind: &Kind, watermark: i64, out: &mut Vec<Signal>) {
        match (self, kind) {
            (Detector::Threshold(s), Kind::Threshold(r)) => s.advance(r, watermark, out),
            (Detector::VolumeSpike(s), Kind::VolumeSpike(r)) => s.advance(r, watermark, out),
            (Detector::NegativeSurge(s), Kind::NegativeSurge(r)) => s.advance(r, watermark, out),
            (Detector::NewTerm(s), Kind::NewTerm(r)) => s.advance(r, watermark),
            (Detector::Flatline(s), Kind::Flatline(r)) => s.advance(r, watermark, out),
            (Detector::Escalation(s), Kind::Escalation(r)) => s.advance(r, watermark),
            (Detector::Unanswered(s), Kind::Unanswered(r)) => s.advance(r, watermark, out),
            _ => {}
        }
    }

    /// Whether each occurrence is its own alert (mentions, terms, stories, questions) rather
    /// than one alert per spell of a condition (volume, threshold, flatline).
    pub fn episodic(kind: &Kind) -> bool {
        matches!(
            kind,
            Kind::RiskyMention(_) | Kind::NewTerm(_) | Kind::Escalation(_) | Kind::Unanswered(_)
        )
    }
}
