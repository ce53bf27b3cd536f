//! `tollgate serve`: runs the admin service until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;
use tracing_subscriber::EnvFilter;

use crate::config::Settings;
use crate::server;

/// Options of `tollgate serve` (everything else comes from `TOLLGATE_*` variables).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; overrides TOLLGATE_LISTEN.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Starts logging: `TOLLGATE_LOG` (or `RUST_LOG`) filters, default `info`.
pub fn init_logging() {
    let filter = EnvFilter::try_from_env("TOLLGATE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs the server.
pub fn run(args: ServeArgs) -> ExitCode {
    init_logging();
    let mut settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tollgate: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tollgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(settings, server::shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate: {e}");
            ExitCode::FAILURE
        }
    }
}
