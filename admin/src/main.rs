//! The `tollgate` binary; see [`tollgate_admin::cli`].

fn main() -> std::process::ExitCode {
    tollgate_admin::cli::main()
}
