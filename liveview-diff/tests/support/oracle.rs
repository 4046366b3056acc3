//! The conformance harness: runs a join render and its diffs through the real
//! Phoenix LiveView JS client (`js/oracle/oracle.js`, node + jsdom) and returns
//! the HTML the client holds after every step.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

/// Feeds `lines` to `node js/oracle/oracle.js --mode=plain`: `lines[0]` is the
/// join `rendered` JSON, every later line one diff payload (one JSON object per
/// line, no newlines inside). Returns, for every line, the HTML of the
/// LiveView's content the client holds after merging it, without the
/// attributes the client injects (so it compares with the server's own full
/// render), or the harness's error message (naming the offending line).
///
/// Fails with a message to run `cargo xtask assets` when the npm packages are
/// not installed.
pub fn merge_plain(lines: &[String]) -> Result<Vec<String>, String> {
    run_oracle("plain", lines)
}

/// The repository root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_oracle(mode: &str, lines: &[String]) -> Result<Vec<String>, String> {
    let root = repo_root();
    if !root.join("js").join("node_modules").is_dir() {
        return Err(format!(
            "{} is missing: run `cargo xtask assets` to install the npm packages the oracle needs",
            root.join("js").join("node_modules").display()
        ));
    }
    if lines.is_empty() {
        return Err("no input: the first line must be the join rendered".to_owned());
    }
    for (index, line) in lines.iter().enumerate() {
        if line.contains('\n') || line.contains('\r') || line.trim().is_empty() {
            return Err(format!(
                "input line {} must be one non-empty line of JSON: {line:?}",
                index + 1
            ));
        }
    }
    let script = root.join("js").join("oracle").join("oracle.js");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(format!("--mode={mode}"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run `node {}`: {err}", script.display()))?;
    let mut input = lines.join("\n");
    input.push('\n');
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from another thread: the harness prints while it reads.
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|err| format!("waiting for the oracle: {err}"))?;
    let written = writer.join().expect("stdin writer panicked");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let message = stderr.trim();
        return Err(if message.is_empty() {
            format!("the oracle failed ({})", output.status)
        } else {
            message.to_owned()
        });
    }
    written.map_err(|err| format!("writing to the oracle: {err}"))?;
    let stdout = String::from_utf8(output.stdout)
        .map_err(|err| format!("the oracle printed invalid UTF-8: {err}"))?;
    let html = stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<String>(line)
                .map_err(|err| format!("the oracle printed {line:?}, not a JSON string: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if html.len() != lines.len() {
        return Err(format!(
            "the oracle printed {} results for {} input lines",
            html.len(),
            lines.len()
        ));
    }
    Ok(html)
}
