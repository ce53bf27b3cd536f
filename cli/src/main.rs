//! The `tollgate` binary; see [`tollgate_cli`].

fn main() -> std::process::ExitCode {
    tollgate_cli::main()
}
