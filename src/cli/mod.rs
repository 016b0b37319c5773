//! The command line. Thin: every command parses its arguments, calls the
//! library, prints a short summary and where the results are.

mod align;
mod eval;
mod progress;
mod report;
mod run;
mod study;
mod train;
mod two_user;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "slfsim",
    version,
    about = "Semantic misalignment and its repair by split learning with layer freezing (SLF)"
)]
pub struct Cli {
    /// Data folder (MNIST, Fashion-MNIST, CIFAR-10); default: $SLFSIM_DATA, then ./data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// LibTorch intra-op threads (default: all cores). Results are reproducible for a fixed count.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate scenario files; errors name the file and line:column or the field path.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Train every profile of a scenario that has no up-to-date checkpoint.
    Train(train::TrainArgs),
    /// Evaluate every (TX, RX) pair of a scenario's profiles: the misalignment map.
    Eval(eval::EvalArgs),
    /// Align one TX with one RX (SLF or a baseline) and measure before/after and costs.
    Align(align::AlignArgs),
    /// Simulate the scenario's network of users: misalignment, detection, SLF over shared links.
    Run(run::RunArgs),
    /// A batch study: a scenario swept over axes with replications (resumable, shardable).
    Study(study::StudyArgs),
    /// The paper's two-user study: SLF at every ℓ over replicate pairs; table and plots.
    TwoUser(two_user::TwoUserArgs),
    /// Rebuild report.html of a run or study folder from its files (e.g. after merging shards).
    Report(report::ReportArgs),
}

pub struct Ctx {
    pub data_dir: Option<PathBuf>,
    /// Worker threads (LibTorch intra-op threads, or `run`'s job pool size).
    pub threads: usize,
}

impl Ctx {
    pub fn data_dir(&self) -> Result<PathBuf> {
        Ok(slfsim::data::resolve_data_dir(self.data_dir.as_deref())?)
    }
}

fn run(cli: Cli) -> Result<()> {
    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    anyhow::ensure!(threads >= 1, "--threads must be >= 1");
    tch::set_num_threads(threads as i32);
    let ctx = Ctx { data_dir: cli.data_dir, threads };
    match cli.command {
        Command::Check { files } => check(&files),
        Command::Train(args) => train::run(&ctx, args),
        Command::Eval(args) => eval::run(&ctx, args),
        Command::Align(args) => align::run(&ctx, args),
        Command::TwoUser(args) => two_user::run(&ctx, args),
        Command::Run(args) => run::run(&ctx, args),
        Command::Study(args) => study::run(&ctx, args),
        Command::Report(args) => report::run(args),
    }
}

fn check(files: &[PathBuf]) -> Result<()> {
    for f in files {
        if std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("Study("))) {
            let p = slfsim::study::sweep::plan(f)?;
            println!("ok: {} (study {:?}, {} runs)", f.display(), p.name, p.runs.len());
            continue;
        }
        let sc = slfsim::scenario::load(f)?;
        if sc.network.users.is_empty() {
            println!("ok: {} (scenario {:?}, {} profiles)", f.display(), sc.name, sc.profiles.len());
        } else {
            let w = slfsim::sim::world::build(&sc)
                .map_err(|(field, msg)| anyhow::anyhow!("{}: {field}: {msg}", f.display()))?;
            println!(
                "ok: {} (scenario {:?}, {} profiles, {} users, {} links, {} pairs)",
                f.display(),
                sc.name,
                sc.profiles.len(),
                w.users.len(),
                w.links.len(),
                w.pairs.len()
            );
        }
    }
    Ok(())
}

pub fn load_scenario(path: &Path) -> Result<slfsim::scenario::Scenario> {
    Ok(slfsim::scenario::load(path)?)
}

/// Where a command reads checkpoints and writes its results.
#[derive(clap::Args, Debug)]
pub struct Paths {
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Checkpoint folder (default: the scenario's models_dir).
    #[arg(long)]
    models_dir: Option<PathBuf>,
}

impl Paths {
    pub fn out(&self, sc: &slfsim::scenario::Scenario) -> PathBuf {
        self.out.clone().unwrap_or_else(|| Path::new("output").join(&sc.name))
    }
    pub fn models(&self, sc: &slfsim::scenario::Scenario) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(|| sc.models_dir.clone())
    }
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    // Colour only on a terminal, so CI logs stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SLFSIM_LOG"))
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            // One line: the chain of causes joined by ": ".
            eprintln!("error: {e:#}");
            1
        }
    }
}
