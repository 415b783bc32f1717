//! Binary entry point: parse the configuration, bind, print the address and serve.

use connect_ui_backend::config::{self, Command};
use connect_ui_backend::store::Store;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match config::parse(std::env::args().skip(1), |k| std::env::var(k).ok()) {
        Ok(Command::Run(c)) => c,
        Ok(Command::Help) => {
            print!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{}", config::USAGE);
            return ExitCode::from(2);
        }
    };
    connect_ui_backend::init_logging();

    let store = match Store::open(&config.db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open database {}: {e}", config.db.display());
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(config.addr);
    println!(
        "connect-ui-backend listening on http://{bound} (db: {})",
        config.db.display()
    );
    let shutdown = connect_ui_backend::shutdown_signal();
    match connect_ui_backend::serve(&config, listener, store, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
