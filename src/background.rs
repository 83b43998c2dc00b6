//! The background work of one instance, in one place: the outbox sender, the expiry of unanswered and
//! unpaid orders, the reminders of orders about to lapse, the daily digest of what helpers did for a farmer,
//! the sweeper of lapsed carrier leases, the removal of photos never attached to a listing, and the impact
//! report's rollups. Every step
//! claims its rows in the database, so several instances running them at once never do the same work twice.

use std::future::Future;
use std::time::Duration;

use crate::state::AppState;
use crate::{fulfilment, listings, messages, orders, outbox, reports, telemetry};

/// Starts every loop on the current runtime; they run until the process ends.
pub fn spawn_all(state: &AppState) {
    let metrics = telemetry::prometheus().clone();
    every(Duration::from_secs(5), "metrics upkeep", move || {
        metrics.run_upkeep();
        std::future::ready(Ok(()))
    });
    let senders = outbox::Senders {
        mailer: state.mailer.clone(),
        phones: state.phones.clone(),
        local_webhooks: state.settings.allow_local_webhooks,
    };
    outbox::spawn_senders(&state.db, &senders, &state.clock);

    let (db, cache, clock) = (state.db.clone(), state.cache.clone(), state.clock.clone());
    let unpaid_hours = state.settings.unpaid_hours;
    every(Duration::from_secs(30), "order expiry", move || {
        let (db, cache, now) = (db.clone(), cache.clone(), clock.now());
        async move {
            let expired = orders::answering::expire_due(&db, &cache, now, unpaid_hours).await?;
            if expired != orders::rules::Expired::default() {
                tracing::info!(?expired, "expired orders and shipments");
            }
            Ok(())
        }
    });

    let (db, clock) = (state.db.clone(), state.clock.clone());
    every(Duration::from_secs(60), "reminders and digests", move || {
        let (db, now) = (db.clone(), clock.now());
        async move {
            let reminded = db.write(move |conn| messages::rules::remind_due(conn, now)).await?;
            if reminded > 0 {
                tracing::info!(reminded, "farmers reminded of orders waiting for an answer");
            }
            let digested = db.write(move |conn| messages::rules::send_digests(conn, now)).await?;
            if digested > 0 {
                tracing::info!(digested, "farmers told what helpers did for them today");
            }
            Ok(())
        }
    });

    let (db, clock, files) = (state.db.clone(), state.clock.clone(), state.media.clone());
    every(Duration::from_secs(15 * 60), "photo cleanup", move || {
        let (db, files, now) = (db.clone(), files.clone(), clock.now());
        async move {
            let removed = listings::photos::remove_unattached(&db, &files, now).await?;
            if removed > 0 {
                tracing::info!(removed, "photos never attached to a listing removed");
            }
            Ok(())
        }
    });

    let (db, clock) = (state.db.clone(), state.clock.clone());
    every(Duration::from_secs(60), "report rollups", move || {
        let (db, now) = (db.clone(), clock.now());
        async move {
            let days = reports::rollups::run_rollups(&db, now).await?;
            tracing::debug!(days, "impact report rollups current");
            Ok(())
        }
    });

    let (db, clock, max_attempts) = (state.db.clone(), state.clock.clone(), state.settings.max_claim_attempts);
    every(Duration::from_secs(5), "lease sweeper", move || {
        let (db, now) = (db.clone(), clock.now());
        async move {
            let returned =
                db.write(move |conn| fulfilment::store::sweep_expired_leases(conn, now, max_attempts)).await?;
            if returned > 0 {
                tracing::info!(returned, "leases ran out; jobs open to claim again");
            }
            Ok(())
        }
    });
}

/// Runs `step` every `period`, logging (not stopping on) its failures.
fn every<F, Fut>(period: Duration, name: &'static str, step: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), crate::error::AppError>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            if let Err(error) = step().await {
                tracing::warn!(%error, "{name}");
            }
        }
    });
}
