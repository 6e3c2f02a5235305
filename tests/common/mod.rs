//! Running the `cgpredict` binary from integration tests.

use std::process::{Command, Output};

/// Runs `cgpredict` with `args`.
pub fn cgpredict(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cgpredict"))
        .args(args)
        .output()
        .expect("the cgpredict binary runs")
}

/// The standard output of a run that must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
