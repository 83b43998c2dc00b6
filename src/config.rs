//! Settings from the environment (and the command line), with the embedded defaults of ARCHITECTURE.md:
//! nothing needs to be set for `cargo run --release`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Args, Clone, Debug)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[arg(long, env = "NONGSAN_ADDR", default_value = "127.0.0.1:8080", global = true)]
    pub addr: String,

    /// The address people reach the web app at, e.g. `https://nongsan.vn`; with `https://` the session cookie
    /// is sent over HTTPS only.
    #[arg(long, env = "NONGSAN_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Folder for the SQLite database, photos and the mail outbox.
    #[arg(long, env = "NONGSAN_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// `postgres://…` for PostgreSQL; a file path or `sqlite://path` for SQLite.
    /// Default: SQLite at `<data dir>/nongsan.db`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Database connections per instance (SQLite: readers; writes share one connection).
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8, global = true)]
    pub db_pool_size: u32,

    /// How long a request waits for a database connection before it answers 503.
    #[arg(long, env = "DB_TIMEOUT_MS", default_value_t = 3000, global = true)]
    pub db_timeout_ms: u64,

    /// `redis://…` to share cache, rate limits and signals between instances. Default: in-process.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// Prefix of every cache key, so several deployments (or tests) can share one Redis.
    #[arg(long, env = "NONGSAN_CACHE_PREFIX", default_value = "nongsan", global = true)]
    pub cache_prefix: String,

    /// `smtp://user:pass@host:port` (or `smtps://`) to send email. Default: `.eml` files in `<data dir>/outbox`.
    #[arg(long, env = "SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// URL the SMS are POSTed to as `{"id", "to", "text"}` JSON (or the eSMS endpoint with
    /// `SMS_PROVIDER=esms`). Default: `.txt` files in `<data dir>/outbox/sms`.
    #[arg(long, env = "SMS_URL", global = true)]
    pub sms_url: Option<String>,

    /// Which SMS API `SMS_URL` speaks: `json` (`{"id", "to", "text"}`) or `esms` (eSMS.vn).
    #[arg(long, env = "SMS_PROVIDER", value_enum, default_value_t = SmsProvider::Json, global = true)]
    pub sms_provider: SmsProvider,

    /// Send SMS in Unicode with diacritics (70 characters a segment) instead of unaccented (160).
    #[arg(long, env = "SMS_UNICODE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub sms_unicode: bool,

    /// eSMS.vn credentials, brand name and SMS type (2: brand name customer care).
    #[arg(long, env = "ESMS_API_KEY", global = true)]
    pub esms_api_key: Option<String>,
    #[arg(long, env = "ESMS_SECRET_KEY", global = true)]
    pub esms_secret_key: Option<String>,
    #[arg(long, env = "ESMS_BRANDNAME", global = true)]
    pub esms_brandname: Option<String>,
    #[arg(long, env = "ESMS_SMS_TYPE", default_value = "2", global = true)]
    pub esms_sms_type: String,

    /// Key of the HMAC-SHA256 signature the SMS gateway puts on replies it forwards to
    /// `/api/v1/sms/inbound`. Unset: every reply is refused (401).
    #[arg(long, env = "SMS_INBOUND_SECRET", global = true)]
    pub sms_inbound_secret: Option<String>,

    /// Key the bank-notification service sends as `Authorization: Apikey <key>` with every transfer it
    /// reports to `/api/v1/payments/bank-notifications`. Unset: every notification is refused (401).
    #[arg(long, env = "BANK_NOTIFY_KEY", global = true)]
    pub bank_notify_key: Option<String>,

    /// Zalo ZNS endpoint (`https://business.openapi.zalo.me/message/template`); unset: no Zalo messages.
    #[arg(long, env = "ZNS_URL", global = true)]
    pub zns_url: Option<String>,

    /// The Zalo Official Account's access token, sent as the `access_token` header.
    #[arg(long, env = "ZNS_ACCESS_TOKEN", global = true)]
    pub zns_access_token: Option<String>,

    /// Approved ZNS templates by message kind: `new_order=123456,order_placed=234567`. Kinds without one go by SMS.
    #[arg(long, env = "ZNS_TEMPLATES", global = true)]
    pub zns_templates: Option<String>,

    /// Sender address of every email.
    #[arg(long, env = "MAIL_FROM", default_value = "Nông Sản <no-reply@nongsan.vn>", global = true)]
    pub mail_from: String,

    /// How long a catalogue page may be served from the cache (0: never cached). Any listing change
    /// invalidates all cached pages at once anyway; this bounds staleness if Redis is unreachable.
    #[arg(long, env = "NONGSAN_CATALOGUE_CACHE_SECS", default_value_t = 30, global = true)]
    pub catalogue_cache_secs: u64,

    /// Hours a farmer has to accept or reject a new shipment before it is cancelled and its stock restored.
    #[arg(long, env = "NONGSAN_CONFIRM_HOURS", default_value_t = 24, global = true)]
    pub confirm_hours: u64,

    /// Hours a bank-transfer order may stay unpaid before it is cancelled and its stock restored.
    #[arg(long, env = "NONGSAN_UNPAID_HOURS", default_value_t = 24, global = true)]
    pub unpaid_hours: u64,

    /// Claims of one job that may run out without a pickup before the job is flagged for an operator.
    #[arg(long, env = "NONGSAN_MAX_CLAIM_ATTEMPTS", default_value_t = 3, global = true)]
    pub max_claim_attempts: i32,

    /// Bank (NAPAS BIN) and account that receive VietQR transfers.
    #[arg(long, env = "NONGSAN_BANK_BIN", default_value = "970436", global = true)]
    pub bank_bin: String,

    #[arg(long, env = "NONGSAN_BANK_ACCOUNT", default_value = "0011001234567", global = true)]
    pub bank_account: String,

    /// Lets `SMTP_URL` send mail without TLS to a host other than this machine.
    #[arg(
        long,
        env = "SMTP_ALLOW_PLAIN",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub smtp_allow_plain: bool,

    /// When set, `/metrics` answers only `Authorization: Bearer <this token>`; unset, only this machine.
    #[arg(long, env = "NONGSAN_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Lets partners register `http://` and loopback webhook URLs. For tests and local development only.
    #[arg(
        long,
        env = "NONGSAN_ALLOW_LOCAL_WEBHOOKS",
        default_value_t = false,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub allow_local_webhooks: bool,

    /// Limits on sign-ups, guest orders, look-ups, photos and searches; the client address behind a proxy.
    #[command(flatten)]
    pub throttles: ThrottleSettings,

    /// HTTP worker threads. Default: one per CPU core.
    #[arg(long, env = "NONGSAN_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Log output: human-readable text or one JSON object per line.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How much of what anyone may do, beyond the login lockout (which always holds; `src/auth/rate_limit.rs`).
#[derive(Args, Clone, Debug)]
pub struct ThrottleSettings {
    /// `off` lifts every limit below (not the login lockout): for load tests on a trusted network.
    #[arg(
        long = "throttle",
        env = "NONGSAN_THROTTLE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        global = true
    )]
    pub enabled: bool,

    /// The header a trusted reverse proxy puts the client address in (`X-Forwarded-For`, `X-Real-IP`); its
    /// last value is used. Unset: the connection's address, and such headers are ignored.
    #[arg(long, env = "NONGSAN_TRUSTED_PROXY", global = true)]
    pub trusted_proxy: Option<String>,

    /// Sign-ups (farmers and buyers) per hour from one client address.
    #[arg(long, env = "NONGSAN_SIGNUPS_PER_HOUR_PER_ADDRESS", default_value_t = 20, global = true)]
    pub signups_per_address: u64,

    /// Sign-ups per hour naming one phone number.
    #[arg(long, env = "NONGSAN_SIGNUPS_PER_HOUR_PER_PHONE", default_value_t = 3, global = true)]
    pub signups_per_phone: u64,

    /// Orders placed without an account per hour for one phone: a bot cannot hold a farmer's whole stock.
    #[arg(long, env = "NONGSAN_GUEST_ORDERS_PER_HOUR_PER_PHONE", default_value_t = 10, global = true)]
    pub guest_orders_per_phone: u64,

    /// Orders placed without an account per hour from one client address (many buyers share one behind
    /// mobile carrier NAT).
    #[arg(long, env = "NONGSAN_GUEST_ORDERS_PER_HOUR_PER_ADDRESS", default_value_t = 300, global = true)]
    pub guest_orders_per_address: u64,

    /// Look-ups of one order with a wrong phone per hour (the right phone is never refused).
    #[arg(long, env = "NONGSAN_FAILED_LOOKUPS_PER_HOUR_PER_ORDER", default_value_t = 10, global = true)]
    pub failed_lookups_per_order: u64,

    /// Photo uploads per farmer per day.
    #[arg(long, env = "NONGSAN_PHOTOS_PER_DAY_PER_FARMER", default_value_t = 100, global = true)]
    pub photos_per_farmer: u64,

    /// Quotes and searches (catalogue, communes) per minute from one client address.
    #[arg(long, env = "NONGSAN_SEARCHES_PER_MINUTE_PER_ADDRESS", default_value_t = 600, global = true)]
    pub searches_per_address: u64,
}

impl ThrottleSettings {
    pub fn embedded_defaults() -> ThrottleSettings {
        ThrottleSettings {
            enabled: true,
            trusted_proxy: None,
            signups_per_address: 20,
            signups_per_phone: 3,
            guest_orders_per_phone: 10,
            guest_orders_per_address: 300,
            failed_lookups_per_order: 10,
            photos_per_farmer: 100,
            searches_per_address: 600,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsProvider {
    Json,
    Esms,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which database a URL points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseTarget {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Settings {
    /// The defaults, exactly as `cargo run` would use them with no variable set.
    pub fn embedded_defaults() -> Settings {
        Settings {
            addr: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            db_pool_size: 8,
            db_timeout_ms: 3000,
            redis_url: None,
            cache_prefix: "nongsan".into(),
            smtp_url: None,
            sms_url: None,
            sms_provider: SmsProvider::Json,
            sms_unicode: false,
            esms_api_key: None,
            esms_secret_key: None,
            esms_brandname: None,
            esms_sms_type: "2".into(),
            sms_inbound_secret: None,
            bank_notify_key: None,
            zns_url: None,
            zns_access_token: None,
            zns_templates: None,
            mail_from: "Nông Sản <no-reply@nongsan.vn>".into(),
            catalogue_cache_secs: 30,
            confirm_hours: 24,
            unpaid_hours: 24,
            max_claim_attempts: 3,
            bank_bin: "970436".into(),
            bank_account: "0011001234567".into(),
            smtp_allow_plain: false,
            metrics_token: None,
            allow_local_webhooks: false,
            throttles: ThrottleSettings::embedded_defaults(),
            workers: None,
            log_format: LogFormat::Text,
        }
    }

    pub fn database(&self) -> DatabaseTarget {
        match self.database_url.as_deref().map(str::trim) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseTarget::Postgres(url.to_owned())
            }
            Some(url) if !url.is_empty() => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                DatabaseTarget::Sqlite(PathBuf::from(path))
            }
            _ => DatabaseTarget::Sqlite(self.data_dir.join("nongsan.db")),
        }
    }

    pub fn db_timeout(&self) -> Duration {
        Duration::from_millis(self.db_timeout_ms)
    }

    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    pub fn sms_outbox_dir(&self) -> PathBuf {
        self.outbox_dir().join("sms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_target_defaults_to_sqlite_in_the_data_dir() {
        let settings = Settings::embedded_defaults();
        assert_eq!(settings.database(), DatabaseTarget::Sqlite(PathBuf::from("data/nongsan.db")));
    }

    #[test]
    fn throttle_off_lifts_the_throttles_and_on_is_the_default() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            throttles: ThrottleSettings,
        }
        let parse = |args: &[&str]| <Cli as clap::Parser>::try_parse_from(args).map(|cli| cli.throttles.enabled);
        assert_eq!(parse(&["nongsan"]).ok(), Some(true));
        assert_eq!(parse(&["nongsan", "--throttle", "off"]).ok(), Some(false));
        assert_eq!(parse(&["nongsan", "--throttle", "on"]).ok(), Some(true));
    }

    #[test]
    fn database_target_recognises_postgres_and_sqlite_urls() {
        let mut settings = Settings::embedded_defaults();
        settings.database_url = Some("postgres://u@h/db".into());
        assert_eq!(settings.database(), DatabaseTarget::Postgres("postgres://u@h/db".into()));
        settings.database_url = Some("sqlite:///tmp/x.db".into());
        assert_eq!(settings.database(), DatabaseTarget::Sqlite(PathBuf::from("/tmp/x.db")));
    }
}
