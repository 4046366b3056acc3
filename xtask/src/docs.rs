//! `cargo xtask docs`: the API documentation and the user guide (`liveview_hyper::guide`),
//! built warning-free, then opened.

use super::*;

/// Builds the workspace's docs (the test toolkit included) with warnings as errors.
pub(crate) fn build_docs() -> Result<()> {
    run_checked(
        cargo()
            .args([
                "doc",
                "--workspace",
                "--no-deps",
                "--features",
                "liveview-core/testing",
            ])
            .args(["--exclude", "xtask", "--exclude", "loadgen"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// `cargo xtask docs [--no-open]`: builds the docs and opens the guide in a browser (or prints
/// where it is when none can be opened).
pub(crate) fn docs(args: &[String]) -> Result<()> {
    build_docs()?;
    let guide = project_root().join("target/doc/liveview_hyper/guide/index.html");
    println!("the guide: {}", guide.display());
    if args.iter().any(|arg| arg == "--no-open") {
        return Ok(());
    }
    for opener in ["xdg-open", "open"] {
        if Command::new(opener)
            .arg(&guide)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
        {
            return Ok(());
        }
    }
    println!("(no browser could be opened: open that file yourself)");
    Ok(())
}
