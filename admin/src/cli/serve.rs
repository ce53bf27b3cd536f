//! `tollgate serve`: runs the admin service until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use crate::config::Settings;
use crate::server;

/// Options of `tollgate serve` (everything else comes from `TOLLGATE_*` variables).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; overrides TOLLGATE_LISTEN.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Runs the server.
pub fn run(args: ServeArgs) -> ExitCode {
    let mut settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tollgate: {e}");
            return ExitCode::from(2);
        }
    };
    crate::logging::init(settings.log_format);
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
