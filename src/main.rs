//! `slfsim` command line: parse, call one library function, say where results went.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
