//! The `chainproof` binary: picks stage mode or the command line, nothing else.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: replay allocates per record on one
/// thread and frees on another, and glibc's arenas spent a third of a
/// replay in malloc, free and their locks (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A copy of this binary running as an emulated opener (`soffice.bin`,
    // `Setup-<token>` on a disk image) plays its part and exits.
    if chainproof::stage::is_stage_invocation() {
        return chainproof::stage::main();
    }
    match chainproof::cli::Cli::try_parse() {
        Ok(cli) => chainproof::cli::main(cli),
        Err(e) => chainproof::cli::usage(e),
    }
}
