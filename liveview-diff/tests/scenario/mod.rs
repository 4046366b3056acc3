//! Runs sequences of renders through the real client: many scenarios per node process.

#![allow(dead_code, unreachable_pub)]

use liveview_diff::client::ClientTree;
use liveview_diff::{wire, Rendered};

use crate::support::oracle::merge_plain;

/// The oracle input of one scenario: its join payload, then one diff per later render.
pub fn lines(steps: &[Rendered]) -> Vec<String> {
    let mut lines = Vec::with_capacity(steps.len());
    lines.push(wire::full_to_string(&steps[0]));
    for pair in steps.windows(2) {
        lines.push(wire::diff_to_string(&pair[0], &pair[1]));
    }
    lines
}

/// Feeds all scenarios to one client session (each scenario's join payload carries root
/// statics, so it replaces the client's whole tree like a join) and checks that after every
/// step the client holds the server's own full render. The error names the scenario and step.
pub fn check(scenarios: &[Vec<Rendered>]) -> Result<(), String> {
    let mut input = Vec::new();
    let mut origin = Vec::new();
    let mut expected = Vec::new();
    for (scenario, steps) in scenarios.iter().enumerate() {
        for (step, line) in lines(steps).into_iter().enumerate() {
            input.push(line);
            origin.push((scenario, step));
            expected.push(steps[step].to_html());
        }
    }
    let describe = |scenario: usize| -> String {
        let mut text = String::new();
        for (index, (s, step)) in origin.iter().enumerate() {
            if *s == scenario {
                text.push_str(&format!(
                    "  step {step} (input line {}): {}\n    expected html: {}\n",
                    index + 1,
                    input[index],
                    expected[index]
                ));
            }
        }
        text
    };
    let html = match merge_plain(&input) {
        Ok(html) => html,
        Err(message) => {
            // "line N" in the message names the input line.
            let line = message
                .split("line ")
                .nth(1)
                .and_then(|rest| {
                    rest.split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|n| n.parse::<usize>().ok())
                })
                .filter(|&line| line >= 1 && line <= origin.len());
            return Err(match line {
                Some(line) => {
                    let (scenario, step) = origin[line - 1];
                    format!(
                        "the client rejected scenario {scenario} step {step}: {message}\n{}",
                        describe(scenario)
                    )
                }
                None => format!("the oracle failed: {message}"),
            });
        }
    };
    for (index, (got, want)) in html.iter().zip(&expected).enumerate() {
        if got != want {
            let (scenario, step) = origin[index];
            return Err(format!(
                "scenario {scenario} step {step}: the client holds\n    {got}\n  instead of\n    {want}\n{}",
                describe(scenario)
            ));
        }
    }
    // The project's own client-side merge (`ClientTree`, used by the test toolkit) must hold
    // exactly what the real client holds, step by step.
    let mut tree: Option<ClientTree> = None;
    for (index, line) in input.iter().enumerate() {
        let (scenario, step) = origin[index];
        let value: serde_json::Value = serde_json::from_str(line).expect("wire JSON parses");
        let merged = if step == 0 {
            ClientTree::join(value).map(|(joined, _)| {
                tree = Some(joined);
            })
        } else {
            tree.as_mut().expect("joined").apply(value).map(drop)
        };
        let ours = merged.and_then(|()| tree.as_mut().expect("joined").plain_html());
        match ours {
            Ok(ours) if ours == html[index] => {}
            Ok(ours) => {
                return Err(format!(
                    "scenario {scenario} step {step}: ClientTree holds\n    {ours}\n  but the real client holds\n    {}\n{}",
                    html[index],
                    describe(scenario)
                ))
            }
            Err(err) => {
                return Err(format!(
                    "scenario {scenario} step {step}: ClientTree refused what the real client merged: {err}\n{}",
                    describe(scenario)
                ))
            }
        }
    }
    Ok(())
}
