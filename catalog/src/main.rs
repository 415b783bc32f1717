//! `connect-ui-catalog`: `import nango providers.yaml -o catalog.json` and
//! `lint catalog.json [--json]` (exit status 1 on errors, 2 when the input is not a catalog).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Imports provider catalogs into the Connect UI format and lints catalogs.
#[derive(Parser)]
#[command(name = "connect-ui-catalog", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Converts another product's provider list into a Connect UI catalog and prints what
    /// was imported, skipped and left without a home.
    Import {
        /// The source format.
        format: Source,
        /// The source file (Nango: `packages/providers/providers.yaml`).
        input: PathBuf,
        /// Where to write the catalog (default: standard output, the summary then goes to
        /// standard error).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Reports every problem in a catalog, per provider, and totals by kind; exits 1 when
    /// there are errors, 2 when the file is not a catalog.
    Lint {
        /// The catalog JSON file.
        catalog: PathBuf,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Formats `import` reads.
#[derive(Clone, Copy, ValueEnum)]
enum Source {
    /// Nango's providers.yaml.
    Nango,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Import {
            format: Source::Nango,
            input,
            output,
        } => {
            let yaml = match std::fs::read_to_string(&input) {
                Ok(y) => y,
                Err(e) => return fail(&format!("cannot read {}: {e}", input.display())),
            };
            let report = match connect_ui_catalog::import_nango(&yaml) {
                Ok(r) => r,
                Err(e) => return fail(&format!("{}: {e}", input.display())),
            };
            let json = report.catalog_json();
            match output {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, json) {
                        return fail(&format!("cannot write {}: {e}", path.display()));
                    }
                    print!("{}", report.summary());
                    println!("wrote {}", path.display());
                }
                None => {
                    print!("{json}");
                    eprint!("{}", report.summary());
                }
            }
            ExitCode::SUCCESS
        }
        Command::Lint { catalog, json } => {
            let text = match std::fs::read_to_string(&catalog) {
                Ok(t) => t,
                Err(e) => return fail(&format!("cannot read {}: {e}", catalog.display())),
            };
            let report = connect_ui_catalog::lint(&text);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
                );
            } else {
                print!("{}", report.to_text());
            }
            ExitCode::from(report.exit_code() as u8)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("connect-ui-catalog: {message}");
    ExitCode::from(2)
}
