//! The command line. Thin: every command parses its arguments, calls the
//! library, prints a short summary and where the results are.

mod align;
mod alloc;
mod eval;
mod progress;
mod report;
mod run;
mod signals;
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
    /// Raise the caps on run size (users, links, pairs, expected events, study runs, steps; see
    /// README "Limits and errors"); the estimated memory must still fit the machine.
    #[arg(long, global = true)]
    allow_large: bool,
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
    anyhow::ensure!((1..=MAX_THREADS).contains(&threads), "--threads {threads} must be in 1..={MAX_THREADS}");
    if cli.allow_large {
        slfsim::scenario::limits::allow_large();
    }
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

/// More threads than this only thrash (and each LibTorch worker holds memory).
const MAX_THREADS: usize = 1024;

fn check(files: &[PathBuf]) -> Result<()> {
    for f in files {
        // Bounded and regular files only: a FIFO or /dev/zero must not block or fill memory
        // here; on a read error `scenario::load` below reports it.
        let text = slfsim::bounded::read_text(f, slfsim::bounded::MAX_TEXT);
        if text.is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("Study("))) {
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
            let e = slfsim::sim::bounds::estimate(&sc, &w);
            let n = slfsim::scenario::limits::show;
            println!(
                "  expected over {} s: {} messages, at most {} episodes and {} model transfers, about {} events, ~{} MB",
                n(sc.network.horizon_s),
                n(e.messages.round()),
                n(e.episodes.round()),
                n(e.transfers.round()),
                n(e.events.round()),
                n((e.memory_bytes / 1e6).ceil())
            );
        }
    }
    Ok(())
}

pub fn load_scenario(path: &Path) -> Result<slfsim::scenario::Scenario> {
    Ok(slfsim::scenario::load(path)?)
}

/// Clamps the scenario's image counts to the data in `data_dir`, saying so
/// on stderr (see `scenario::limits::fit_to_data`).
pub fn fit_to_data(sc: &mut slfsim::scenario::Scenario, data_dir: &Path) {
    for note in slfsim::scenario::limits::fit_to_data(sc, data_dir) {
        eprintln!("note: {note}");
    }
}

/// `--steps N`: overrides `align.budget.steps`, under the scenario's rules.
pub fn override_steps(sc: &mut slfsim::scenario::Scenario, steps: Option<usize>) -> Result<()> {
    if let Some(n) = steps {
        sc.align.budget.steps = n;
        sc.validate().map_err(|(field, msg)| anyhow::anyhow!("--steps {n}: {field}: {msg}"))?;
    }
    Ok(())
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
    /// The output folder, checked (see `report::out_dir`) but not created:
    /// call it before the work, so that a bad `--out` is refused at once.
    pub fn out(&self, sc: &slfsim::scenario::Scenario) -> Result<PathBuf> {
        let dir = self.out.clone().unwrap_or_else(|| Path::new("output").join(&sc.name));
        slfsim::report::out_dir::check(&dir)?;
        Ok(dir)
    }

    /// Creates and marks the output folder, once there are results to write.
    pub fn claim(dir: &Path) -> Result<()> {
        Ok(slfsim::report::out_dir::claim(dir)?)
    }
    pub fn models(&self, sc: &slfsim::scenario::Scenario) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(|| sc.models_dir.clone())
    }
}

pub fn main() -> i32 {
    alloc::tune();
    signals::install();
    // A panic is a bug; it still ends as one `error:` line and status 1, and
    // the default hook's multi-line report is kept for SLFSIM_LOG.
    let verbose = std::env::var_os("SLFSIM_LOG").is_some();
    std::panic::set_hook(Box::new(move |info| {
        if verbose {
            eprintln!("{info}");
        }
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        *PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }));
    let code = match std::panic::catch_unwind(run_cli) {
        Ok(code) => code,
        Err(p) => {
            let at = PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()).clone();
            eprintln!("error: internal error (a bug, please report it): {}{at}", slfsim::sim::lab::panic_text(&*p));
            1
        }
    };
    match slfsim::cancel::interrupted() {
        Some(sig) => {
            eprintln!(
                "slfsim: stopped by {}; every output file is complete or absent (a study resumes where it stopped)",
                signals::name(sig)
            );
            signals::status(sig)
        }
        None => code,
    }
}

static PANIC_AT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn run_cli() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            // Usage errors too are one line and status 1.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments").trim_start_matches("error: ");
            eprintln!("error: {first} (see slfsim --help)");
            return 1;
        }
    };
    // Colour only on a terminal, so CI logs stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SLFSIM_LOG"))
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => 0,
        // Stopped by a signal: `main` reports it.
        Err(_) if slfsim::cancel::interrupted().is_some() => 1,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            1
        }
    }
}

/// The chain of causes joined by ": " on one line, without repeating a cause
/// that a message already quotes (most error types print their source).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}
