//! Operators' commands: `vigie alert ack|resolve|silence` (commands to alerting through
//! `vigie.alerts.commands`) and `vigie token create|revoke|list`.

use crate::services::kafka;
use crate::{AlertAction, TokenAction};
use anyhow::Context;
use vigie_core::bus::Bus;
use vigie_core::config::Config;
use vigie_core::watches;

/// The tenant of an alert id (`<tenant>:<watch>:<rule>:<episode>`).
fn tenant_of(id: &str) -> anyhow::Result<String> {
    match id.split_once(':') {
        Some((tenant, rest)) if !tenant.is_empty() && !rest.is_empty() => Ok(tenant.to_string()),
        _ => anyhow::bail!("alert id {id:?}: expected <tenant>:<watch>:<rule>:<episode>"),
    }
}

pub(crate) async fn send_alert_command(config: &Config, action: AlertAction) -> anyhow::Result<()> {
    use vigie_core::proto::{alert_command::Action, AlertCommand, Silence};
    let cmd = match action {
        AlertAction::Ack { id, actor } => AlertCommand {
            tenant: tenant_of(&id)?,
            actor,
            action: Some(Action::Acknowledge(id)),
        },
        AlertAction::Resolve { id, actor } => AlertCommand {
            tenant: tenant_of(&id)?,
            actor,
            action: Some(Action::Resolve(id)),
        },
        AlertAction::Silence {
            tenant,
            watch,
            rule,
            duration,
            comment,
            actor,
        } => {
            let secs = watches::parse_duration_secs(&duration)
                .with_context(|| format!("--for {duration:?}: expected a duration like 30m or 2h"))?;
            let max = vigie_core::rules::MAX_SILENCE_SECS;
            anyhow::ensure!(
                secs <= max,
                "--for {duration:?}: longer than the longest silence, {}d",
                max / 86_400
            );
            let now = vigie_core::now_ms();
            AlertCommand {
                tenant: tenant.clone(),
                actor: actor.clone(),
                action: Some(Action::Silence(Silence {
                    id: format!("{tenant}:{watch}:{rule}:{now}"),
                    tenant,
                    watch_id: watch,
                    rule,
                    starts_at_ms: now,
                    ends_at_ms: now + secs as i64 * 1000,
                    comment,
                    created_by: actor,
                })),
            }
        }
    };
    use prost::Message;
    let record = vigie_core::bus::OutRecord::message(
        cmd.tenant.clone(),
        vigie_alerting::service::COMMAND_SCHEMA,
        cmd.encode_to_vec(),
    );
    kafka(config)
        .publisher()?
        .publish(vigie_core::topics::ALERT_COMMANDS, vec![record])
        .await?;
    println!("sent to {}", vigie_core::topics::ALERT_COMMANDS);
    Ok(())
}

pub(crate) async fn manage_tokens(config: &Config, action: TokenAction) -> anyhow::Result<()> {
    use vigie_core::tokens;
    let bus = kafka(config);
    bus.ensure_topics().await?;
    let publisher = bus.publisher()?;
    match action {
        TokenAction::Create { tenant, role, name } => {
            vigie_core::model::check_name("--tenant", &tenant)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
            let role = tokens::parse_role(&role)
                .with_context(|| format!("--role {role:?}: expected reader, operator or admin"))?;
            let (token, record) = tokens::make(&tenant, role, &name).context("cannot draw a random token")?;
            tokens::publish(&publisher, std::slice::from_ref(&record)).await?;
            println!("{token}");
            eprintln!(
                "token {} for tenant {tenant} ({}): shown once, store it now",
                record.id,
                tokens::role_name(role)
            );
        }
        TokenAction::Revoke { id } => {
            let store = known_tokens(&bus).await?;
            let mut record = store
                .all()
                .into_iter()
                .find(|t| t.id == id)
                .with_context(|| format!("no token with id {id:?}"))?;
            record.revoked_at_ms = vigie_core::now_ms();
            tokens::publish(&publisher, &[record]).await?;
            println!("revoked {id}");
        }
        TokenAction::List => {
            let mut all = known_tokens(&bus).await?.all();
            all.sort_by(|a, b| (&a.tenant, a.created_at_ms).cmp(&(&b.tenant, b.created_at_ms)));
            for t in all {
                let role = tokens::role_name(t.role());
                let state = if t.revoked_at_ms != 0 { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{role}\t{state}\t{}\t{}",
                    t.id,
                    t.tenant,
                    vigie_core::model::format_rfc3339_ms(t.created_at_ms),
                    t.name
                );
            }
        }
    }
    publisher.flush().await;
    Ok(())
}

async fn known_tokens(bus: &Bus) -> anyhow::Result<vigie_core::tokens::TokenStore> {
    let store = vigie_core::tokens::TokenStore::default();
    let cancel = tokio_util::sync::CancellationToken::new();
    let follower = vigie_core::tokens::materialise(bus, store.clone(), cancel.clone()).await?;
    cancel.cancel();
    let _ = follower.await;
    Ok(store)
}
