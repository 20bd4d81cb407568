//! Operators' commands (`vigie.alerts.commands`): acknowledge or resolve an open alert, set or
//! expire a silence, move a quiet tenant's clock. A command naming nothing that exists is an
//! error the service dead-letters; a repeat of one already applied is not.

use super::Engine;
use crate::silence::SilenceRule;
use vigie_core::proto::{alert_command::Action, Alert, AlertCommand};
use vigie_core::watches::WatchSet;

/// Why an operator's command could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The command carries no action.
    #[error("no action")]
    NoAction,
    /// A silence whose span is empty or reversed.
    #[error("silence {id}: ends_at must be after starts_at")]
    EmptySilence {
        /// The silence's id.
        id: String,
    },
    /// No silence with this id for the tenant.
    #[error("no silence {id:?} for tenant {tenant}")]
    NoSilence {
        /// The command's tenant.
        tenant: String,
        /// The silence id it named.
        id: String,
    },
    /// No open (or remembered) alert with this id for the tenant.
    #[error("no open alert {id:?} for tenant {tenant}")]
    NoOpenAlert {
        /// The command's tenant.
        tenant: String,
        /// The alert id it named.
        id: String,
    },
}

impl Engine {
    /// Applies an operator's command; state changes are appended to `out`. Refused when the
    /// command names nothing that exists (see [`CommandError`]).
    pub fn command(
        &mut self,
        cmd: &AlertCommand,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) -> Result<(), CommandError> {
        if let Some(Action::ClockMs(to)) = &cmd.action {
            self.advance(&cmd.tenant, *to, watches, now_ms, out);
            return Ok(());
        }
        let t = self.tenants.entry(cmd.tenant.clone()).or_default();
        let at = t.watermark_ms.max(1);
        match &cmd.action {
            None | Some(Action::ClockMs(_)) => Err(CommandError::NoAction),
            Some(Action::Silence(s)) => {
                let silence = SilenceRule::from_command(s)
                    .ok_or_else(|| CommandError::EmptySilence { id: s.id.clone() })?;
                t.silences.retain(|x| x.id != s.id);
                t.silences.push(silence);
                t.dirty = true;
                Ok(())
            }
            Some(Action::ExpireSilence(id)) => {
                let s =
                    t.silences
                        .iter_mut()
                        .find(|s| s.id == *id)
                        .ok_or_else(|| CommandError::NoSilence {
                            tenant: cmd.tenant.clone(),
                            id: id.clone(),
                        })?;
                s.expire(at, now_ms);
                t.dirty = true;
                Ok(())
            }
            Some(Action::Acknowledge(id)) | Some(Action::Resolve(id)) => {
                let ack = matches!(cmd.action, Some(Action::Acknowledge(_)));
                for (watch_id, ws) in t.watches.iter_mut() {
                    let key = vigie_core::topics::watch_key(&cmd.tenant, watch_id);
                    let Some(watch) = watches.get(&key) else { continue };
                    ws.follow(watch, at, now_ms, out);
                    let mut changed = None;
                    for r in ws.rules(watch) {
                        let ctx = r.context(&t.silences, now_ms);
                        if !r.slot.book.open_ids().any(|x| x == id) {
                            if r.slot.book.knows(&ctx, id) {
                                // Already resolved (a repeated or replayed command): nothing to do.
                                return Ok(());
                            }
                            continue;
                        }
                        changed = Some(if ack {
                            r.slot.book.acknowledge(&ctx, id, &cmd.actor, at, out)
                        } else {
                            r.slot.book.resolve(&ctx, id, &cmd.actor, at, out)
                        });
                        break;
                    }
                    if let Some(changed) = changed {
                        ws.dirty |= changed;
                        return Ok(());
                    }
                }
                Err(CommandError::NoOpenAlert {
                    tenant: cmd.tenant.clone(),
                    id: id.clone(),
                })
            }
        }
    }
}
