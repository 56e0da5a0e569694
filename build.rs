//! Puts the commit and the build date into `gandish --version` when built from a git checkout;
//! from a package (no `.git`) or without `git`, the version alone. Never fails the build.

include!("build/version_info.rs");

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/version_info.rs");
    // Reproducible builds set the date; otherwise it is the day the build script last ran
    // (it reruns when the commit changes, not on every build, so a build stays cacheable).
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let build_date = utc_date(now);
    let git = git_info(&dir);
    for p in git.iter().flat_map(|g| &g.watch) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rustc-env=GANDISH_VERSION_LINE={}", version_line(&version, git.as_ref(), &build_date));
    let (hash, date) = git.as_ref().map_or(("", ""), |g| (g.hash.as_str(), g.date.as_str()));
    println!("cargo:rustc-env=GANDISH_COMMIT_HASH={hash}");
    println!("cargo:rustc-env=GANDISH_COMMIT_DATE={date}");
    println!("cargo:rustc-env=GANDISH_BUILD_DATE={}", if git.is_some() { build_date.as_str() } else { "" });
    println!("cargo:rustc-env=GANDISH_TARGET={}", std::env::var("TARGET").unwrap_or_default());
    println!("cargo:rustc-env=GANDISH_PROFILE={}", std::env::var("PROFILE").unwrap_or_default());
}
