//! The `chainproof` binary: picks stage mode or the command line, nothing else.

use std::process::ExitCode;

use clap::Parser;

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
