//! `sigv4-gateway`: see the library's documentation and the README.

fn main() -> std::process::ExitCode {
    sigv4_gateway::cli::main()
}
