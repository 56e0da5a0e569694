fn main() -> std::process::ExitCode {
    gandish::cli::main()
}
