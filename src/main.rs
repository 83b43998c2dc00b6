use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nongsan::config::Settings;
use nongsan::startup::{Application, Components, connect_database, openapi, prepare_database};
use nongsan::telemetry;

/// nongsan: agricultural e-marketplace backend. Runs on SQLite out of the box; set DATABASE_URL,
/// REDIS_URL and SMTP_URL to use PostgreSQL, Redis and an SMTP server.
#[derive(Parser)]
#[command(name = "nongsan", version)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default): migrates and loads the seeds first.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Apply migrations and load changed seed files, then exit.
    Seed,
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init_logging(cli.settings.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let components = Components::start(&settings).await?;
            telemetry::spawn_metrics_upkeep();
            Application::build(settings, components)?.run_until_stopped().await?;
        }
        Command::Migrate => {
            let applied = connect_database(&settings).await?.migrate().await?;
            tracing::info!(?applied, "migrations applied");
        }
        Command::Seed => prepare_database(&connect_database(&settings).await?).await?,
        Command::Openapi => println!("{}", openapi().to_pretty_json()?),
    }
    Ok(())
}
