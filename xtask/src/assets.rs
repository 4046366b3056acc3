//! `cargo xtask assets`: the npm packages of `js/` and the client bundle; the test file lists.

use super::*;

pub(crate) fn assets() -> Result<()> {
    let js = project_root().join("js");
    if npm_install_needed(&js) {
        // No package needs its install script: esbuild's binary comes in its
        // platform package, and playwright-core downloads no browser.
        run_checked(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(&js),
        )?;
    }
    let esbuild = js.join("node_modules").join(".bin").join("esbuild");
    run_checked(
        Command::new(esbuild)
            .args([
                "app.js",
                "--bundle",
                "--format=iife",
                "--minify",
                "--target=es2020",
                "--outfile=dist/app.js",
                "--log-level=warning",
            ])
            .current_dir(&js),
    )
}

/// `npm ci` is needed when `js/node_modules` is missing or older than
/// `js/package-lock.json` (npm writes `node_modules/.package-lock.json` on
/// every install).
pub(crate) fn npm_install_needed(js: &Path) -> bool {
    let modified =
        |path: PathBuf| -> Option<SystemTime> { fs::metadata(path).ok()?.modified().ok() };
    let installed = modified(js.join("node_modules").join(".package-lock.json"));
    let locked = modified(js.join("package-lock.json"));
    match (installed, locked) {
        (Some(installed), Some(locked)) => locked > installed,
        _ => true,
    }
}

/// The files in `dir` (relative to the root) whose names end in `suffix`,
/// sorted, as paths relative to the root. `node --test DIR` cannot be used:
/// node 21+ takes its arguments as globs and no longer searches directories.
pub(crate) fn test_files(dir: &str, suffix: &str) -> Result<Vec<String>> {
    let entries = fs::read_dir(project_root().join(dir))
        .map_err(|err| TaskError(format!("cannot list {dir}: {err}")))?;
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(suffix))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return fail(format!("no *{suffix} files in {dir}"));
    }
    Ok(files)
}
