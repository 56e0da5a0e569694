/// mimalloc instead of the system allocator: the sandbox's replies are trees of many small
/// allocations built and freed on every call, where glibc's malloc costs a third of the CPU of a
/// large `paas.list` (see `benches/sandbox_vs_python.py`). The library leaves the choice to its
/// users.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gandish::cli::main()
}
