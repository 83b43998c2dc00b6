//! The one application state: what every handler, extractor and background loop can reach. It sits below
//! the capabilities and imports only infrastructure (settings, database, cache, mail, phones, photos, the clock and
//! the reference data), so no capability has to import the wiring to reach it.

use std::sync::Arc;

use anyhow::Context;

use crate::cache::Cache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::mail::Mailer;
use crate::media::MediaStore;
use crate::reference::{Reference, seed};
use crate::sms::Phones;

pub struct AppState {
    pub settings: Settings,
    pub db: Db,
    pub cache: Cache,
    pub mailer: Mailer,
    /// SMS and Zalo gateways.
    pub phones: Phones,
    pub media: MediaStore,
    pub reference: Arc<Reference>,
    pub clock: Clock,
}

impl AppState {
    /// Connects to what the settings name, migrates the database, loads the seeds and reads the reference
    /// data into memory.
    pub async fn start(settings: Settings) -> anyhow::Result<AppState> {
        let db = connect_database(&settings).await?;
        prepare_database(&db).await?;
        let cache = match &settings.redis_url {
            Some(url) => Cache::redis(url, &settings.cache_prefix).context("invalid REDIS_URL")?,
            None => Cache::in_process(&settings.cache_prefix),
        };
        Ok(AppState {
            mailer: Mailer::from_settings(&settings)?,
            phones: Phones::from_settings(&settings)?,
            media: MediaStore::new(settings.media_dir()),
            reference: Arc::new(Reference::load(&db).await?),
            clock: Clock::default(),
            cache,
            db,
            settings,
        })
    }
}

pub async fn connect_database(settings: &Settings) -> anyhow::Result<Db> {
    let (target, size, timeout) = (settings.database(), settings.db_pool_size, settings.db_timeout());
    tokio::task::spawn_blocking(move || Db::connect(&target, size, timeout)).await?
}

/// Applies pending migrations and changed seeds; a second run changes nothing.
pub async fn prepare_database(db: &Db) -> anyhow::Result<()> {
    let applied = db.migrate().await?;
    tracing::info!(backend = db.backend().name(), ?applied, "migrations up to date");
    for outcome in seed::load_all(db).await.map_err(|e| anyhow::anyhow!("loading seeds failed: {e}"))? {
        match outcome.rows {
            Some(rows) => tracing::info!(seed = outcome.name, rows, "seed loaded"),
            None => tracing::debug!(seed = outcome.name, "seed unchanged"),
        }
    }
    Ok(())
}
