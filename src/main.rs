#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nongsan::accounts::rules::{PasswordAccount, open_password_account};
use nongsan::auth::Role;
use nongsan::config::Settings;
use nongsan::error::{AppError, Lang};
use nongsan::listings::demo::{DEMO_PIN, seed_demo};
use nongsan::startup::{Application, openapi};
use nongsan::state::{AppState, connect_database, prepare_database};
use nongsan::{allocator, background, telemetry};
use rand::distr::{Alphanumeric, SampleString};

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
    Seed {
        /// Also create a demo catalogue: farmers across the country, listings in every category, photos.
        #[arg(long)]
        demo: bool,
        /// How many demo listings there should be (e.g. 100000 for benchmarks).
        #[arg(long, default_value_t = 2000)]
        listings: usize,
        /// Seed the demo even on a database with accounts other than demo farmers.
        #[arg(long)]
        force: bool,
    },
    /// Bring the impact report's rollups current (the service does it every minute), then exit.
    Rollups,
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an operator account. There is no default operator and no default password: without
    /// --password-stdin a random password is generated and printed once.
    CreateOperator {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    allocator::one_arena_per_core();
    let cli = Cli::parse();
    telemetry::init_logging(cli.settings.log_format);
    let done = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match done {
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
            let state = AppState::start(settings).await?;
            background::spawn_all(&state);
            Application::build(state).await?.run_until_stopped().await?;
        }
        Command::Migrate => {
            let applied = connect_database(&settings).await?.migrate().await?;
            tracing::info!(?applied, "migrations applied");
        }
        Command::Seed { demo, listings, force } => {
            if demo {
                let state = AppState::start(settings).await?;
                let report = seed_demo(&state, listings, force).await?;
                tracing::info!(
                    farmers = report.farmers,
                    listings_added = report.listings,
                    "demo catalogue ready (PIN {DEMO_PIN})"
                );
            } else {
                prepare_database(&connect_database(&settings).await?).await?;
            }
        }
        Command::Rollups => {
            let state = AppState::start(settings).await?;
            let started = std::time::Instant::now();
            let rolled = nongsan::reports::rollups::run_rollups(&state.db, state.clock.now()).await;
            let days = rolled.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("rollups current: {days} days aggregated in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Openapi => println!("{}", openapi().to_pretty_json()?),
        Command::Admin { command: AdminCommand::CreateOperator { name, email, phone, password_stdin } } => {
            let state = AppState::start(settings).await?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                generate_password()
            };
            let account = PasswordAccount {
                role: Role::Operator,
                name: &name,
                email: email.as_deref(),
                phone: phone.as_deref(),
                password: &password,
                ward_code: None,
                team_id: None,
                welcome: None,
            };
            let created = open_password_account(&state.db, &state.reference.places, &account, state.clock.now()).await;
            let id = created.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("operator {id} created");
            if !password_stdin {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(())
}

fn generate_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

/// An error as the command line shows it: the problem's detail and each invalid field.
fn describe(error: &AppError) -> String {
    let problem = error.problem(Lang::En, None);
    let fields: Vec<String> = problem.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
    format!("{} {}", problem.detail.unwrap_or(problem.title), fields.join("; "))
}
