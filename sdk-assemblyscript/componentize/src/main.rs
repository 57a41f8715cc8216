//! `weir-componentize`: the last step of building an AssemblyScript filter, and the
//! generator of the SDK's import glue.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Build weir:filter components from AssemblyScript core modules")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turns the core module `asc` wrote into a component.
    Build {
        /// The core module.
        input: PathBuf,
        /// Where to write the component.
        #[arg(short, long)]
        output: PathBuf,
        /// The WIT folder (default: the ABI version the SDK targets).
        #[arg(long)]
        wit: Option<PathBuf>,
    },
    /// Prints the generated glue (`assembly/abi.generated.ts`).
    Glue {
        #[arg(long)]
        wit: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Build { input, output, wit } => {
            let core = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let wit = wit.unwrap_or_else(weir_componentize::abi_dir);
            let component = weir_componentize::componentize(&core, &wit, weir_componentize::WORLD)
                .with_context(|| format!("componentizing {}", input.display()))?;
            std::fs::write(&output, &component).with_context(|| format!("writing {}", output.display()))?;
            eprintln!(
                "{}: {} bytes (core module {} bytes)",
                output.display(),
                component.len(),
                core.len()
            );
        }
        Command::Glue { wit } => {
            let wit = wit.unwrap_or_else(weir_componentize::abi_dir);
            print!("{}", weir_componentize::glue(&wit, weir_componentize::WORLD)?);
        }
    }
    Ok(())
}
