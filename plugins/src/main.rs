//! The `v6fix` binary: everything happens in the library's [`v6fix::run`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(v6fix::run(std::env::args_os()))
}
