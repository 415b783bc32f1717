//! Binary entry point: parse the configuration, prepare the backend, bind, print the address
//! (and, in dev mode, a generated host API key, once) and serve.

use connect_ui_backend::config::{self, ConfigError, Mode};
use connect_ui_backend::crypto::KeySource;
use connect_ui_backend::Backend;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // `connect-ui-backend rekey [options]`: the same options, then re-encrypt and exit.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let rekey = args.get(1).is_some_and(|a| a == "rekey");
    if rekey {
        args.remove(1);
    }
    let config = match config::parse(args) {
        Ok(c) => c,
        // --help, or a flag clap cannot parse: its own text and exit code (0 or 2).
        Err(ConfigError::Args(e)) => e.exit(),
        Err(ConfigError::Invalid(message)) => {
            eprintln!("error: {message}\n\nFor more information, try '--help'.");
            return ExitCode::from(2);
        }
    };
    connect_ui_backend::init_logging();
    if rekey {
        return match connect_ui_backend::rekey(&config).await {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        };
    }

    let addr = config.addr;
    let backend = match Backend::start(config).await {
        Ok(b) => b,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    let config = backend.config();
    println!(
        "connect-ui-backend listening on http://{bound} (db: {})",
        config.location()
    );
    if let Some(key) = backend.generated_host_api_key() {
        println!("dev mode: generated host API key (shown once): {key}");
    }
    tracing::info!(
        mode = match config.mode {
            Mode::Dev => "dev",
            Mode::Production => "production",
        },
        verify = config.verify,
        rate_limit = config.rate_limits.enabled,
        webhooks = config.webhook.is_some(),
        encryption_key = match backend.key_source() {
            KeySource::Environment => "CONNECT_UI_ENCRYPTION_KEY".to_string(),
            KeySource::File => format!("key file {}", config.key_file_path().display()),
            KeySource::NewFile => format!("new key file {}", config.key_file_path().display()),
        },
        "started"
    );
    let shutdown = connect_ui_backend::shutdown_signal();
    match backend.serve(listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
