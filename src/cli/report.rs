//! `slfsim report`: rebuilds `report.html` of an existing run or study folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use slfsim::report::{write_report, FolderKind};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run folder (`slfsim run`) or study folder (`slfsim study`, also merged).
    dir: PathBuf,
}

pub fn run(args: ReportArgs) -> Result<()> {
    let (kind, path) = write_report(&args.dir)?;
    let kind = match kind {
        FolderKind::Run => "run",
        FolderKind::Study => "study",
    };
    println!("wrote {} ({kind} report)", path.display());
    Ok(())
}
