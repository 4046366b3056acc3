//! The suite's report: medians, ratios, the targets with pass/miss, Markdown and JSON.

use super::*;

/// The median of each figure over the runs (the order of the first run).
pub(super) fn medians(runs: &[Metrics]) -> Metrics {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|(name, _)| {
            let mut values: Vec<f64> = runs
                .iter()
                .filter_map(|run| run.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                .filter(|v| !v.is_nan())
                .collect();
            values.sort_by(f64::total_cmp);
            let median = match values.len() {
                0 => f64::NAN,
                n if n % 2 == 1 => values[n / 2],
                n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
            };
            (name.clone(), median)
        })
        .collect()
}

pub(super) fn figure(results: &Results, scenario: &str, kind: Kind, name: &str) -> Option<f64> {
    results
        .get(scenario)?
        .get(&kind)?
        .0
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
}

/// A number for the table: integers above 100, otherwise 3 significant digits.
pub(super) fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else if magnitude >= 0.01 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

pub(super) fn ratio(ours: Option<f64>, other: Option<f64>) -> Option<f64> {
    match (ours, other) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

pub(super) fn ratio_text(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |r| format!("{}x", number(r)))
}

/// One target of the issue, checked.
pub(super) struct Target {
    goal: String,
    value: String,
    pass: Option<bool>,
}

pub(super) fn targets(settings: &Settings, r: &Results) -> Vec<Target> {
    let mut out = Vec::new();
    let mut check = |goal: &str, value: Option<f64>, unit: &str, pass: &dyn Fn(f64) -> bool| {
        out.push(Target {
            goal: goal.to_owned(),
            value: value.map_or_else(
                || "not measured".to_owned(),
                |v| format!("{}{unit}", number(v)),
            ),
            pass: value.map(pass),
        });
    };
    let ours = |s: &str, f: &str| figure(r, s, Kind::Ours, f);
    let js = |s: &str, f: &str| figure(r, s, Kind::LiveViewJs, f);
    let echo = |s: &str, f: &str| figure(r, s, Kind::Echo, f);
    let vs_echo = |s: &str, f: &str| ratio(ours(s, f), echo(s, f));
    check(
        "counter_1x2000 events/s ≥ 0.8x echo",
        vs_echo("counter_1x2000", "events/s"),
        "x",
        &|v| v >= 0.8,
    );
    check(
        "counter_1x2000 server CPU/event ≤ 1.5x echo",
        vs_echo("counter_1x2000", "server cpu ms/event"),
        "x",
        &|v| v <= 1.5,
    );
    check(
        "counter_200x50 server CPU/event ≤ 1.5x echo",
        vs_echo("counter_200x50", "server cpu ms/event"),
        "x",
        &|v| v <= 1.5,
    );
    check(
        "counter_200x50 events/s ≥ 0.9x echo",
        vs_echo("counter_200x50", "events/s"),
        "x",
        &|v| v >= 0.9,
    );
    check(
        "counter_200x50 rtt p99 ≤ 1.2x echo",
        vs_echo("counter_200x50", "rtt p99 ms"),
        "x",
        &|v| v <= 1.2,
    );
    let hold = format!("hold_{}", settings.hold);
    check(
        &format!(
            "idle counter view ({} views) ≤ 5 KB resident",
            settings.hold
        ),
        ours(&hold, "server KB/view"),
        " KB",
        &|v| v <= 5.0,
    );
    check(
        &format!(
            "idle counter view ({} views) below the echo's per-socket cost",
            settings.hold
        ),
        vs_echo(&hold, "server KB/view"),
        "x",
        &|v| v < 1.0,
    );
    check(
        "storm_1000: resident per view ≤ 0.8x the echo's per socket",
        vs_echo("storm_1000", "server KB/view"),
        "x",
        &|v| v <= 0.8,
    );
    check(
        "table_50x100 server memory per view ≤ 16 KB",
        ours("table_50x100", "server KB/view"),
        " KB",
        &|v| v <= 16.0,
    );
    check(
        "table_50x100 events/s ≥ 30x LiveViewJS",
        ratio(
            ours("table_50x100", "events/s"),
            js("table_50x100", "events/s"),
        ),
        "x",
        &|v| v >= 30.0,
    );
    check(
        "table_50x100 reply frame bytes/event < 130",
        ours("table_50x100", "reply bytes/event"),
        " B",
        &|v| v < 130.0,
    );
    check(
        "dead_render requests/s ≥ 0.9x echo",
        vs_echo("dead_render", "requests/s"),
        "x",
        &|v| v >= 0.9,
    );
    out
}

pub(super) fn markdown(
    settings: &Settings,
    all: &[Scenario],
    r: &Results,
    targets: &[Target],
) -> String {
    let mut md = String::new();
    let mode = if settings.full { "full" } else { "quick" };
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    md.push_str(&format!(
        "# LiveView load benchmark ({mode} mode)\n\n\
         {cpus} CPUs shared by the servers and the load generator; every server is restarted for \
         each run; figures are medians of {} run(s) ({} for hold). Ratios are ours / reference, \
         measured in the same run by the same generator (`xtask/loadgen`). Latencies are client \
         round trips (join: `phx_join` sent to its reply). Server memory is `VmRSS`, CPU is \
         `utime+stime` of `/proc/<pid>/stat` around the event phase.\n\n",
        settings.reps, 1
    ));
    md.push_str("## Targets\n\n| target | measured | |\n| --- | --- | --- |\n");
    for t in targets {
        let mark = match t.pass {
            Some(true) => "pass",
            Some(false) => "**miss**",
            None => "–",
        };
        md.push_str(&format!("| {} | {} | {mark} |\n", t.goal, t.value));
    }
    for scenario in all {
        let Some(by_kind) = r.get(&scenario.name) else {
            continue;
        };
        md.push_str(&format!("\n## {}\n\n{}\n\n", scenario.name, scenario.what));
        md.push_str("| figure |");
        for kind in &settings.servers {
            md.push_str(&format!(" {} |", kind.title()));
        }
        let ratio_js =
            settings.servers.contains(&Kind::LiveViewJs) && settings.servers.contains(&Kind::Ours);
        let ratio_echo =
            settings.servers.contains(&Kind::Echo) && settings.servers.contains(&Kind::Ours);
        if ratio_js {
            md.push_str(" ours / LiveViewJS |");
        }
        if ratio_echo {
            md.push_str(" ours / echo |");
        }
        md.push_str("\n| --- |");
        let columns = settings.servers.len() + usize::from(ratio_js) + usize::from(ratio_echo);
        md.push_str(&" ---: |".repeat(columns));
        md.push('\n');
        let mut names: Vec<&str> = Vec::new();
        for kind in &settings.servers {
            if let Some((median, _)) = by_kind.get(kind) {
                for (name, _) in median {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
        }
        for name in names {
            md.push_str(&format!("| {name} |"));
            for &kind in &settings.servers {
                let value = figure(r, &scenario.name, kind, name);
                md.push_str(&format!(
                    " {} |",
                    value.map_or_else(|| "–".to_owned(), number)
                ));
            }
            let ours = figure(r, &scenario.name, Kind::Ours, name);
            if ratio_js {
                let js = figure(r, &scenario.name, Kind::LiveViewJs, name);
                md.push_str(&format!(" {} |", ratio_text(ratio(ours, js))));
            }
            if ratio_echo {
                let echo = figure(r, &scenario.name, Kind::Echo, name);
                md.push_str(&format!(" {} |", ratio_text(ratio(ours, echo))));
            }
            md.push('\n');
        }
    }
    md
}

pub(super) fn metrics_json(metrics: &Metrics) -> Value {
    let mut map = Map::new();
    for (name, value) in metrics {
        map.insert(name.clone(), json!(value));
    }
    Value::Object(map)
}

pub(super) fn json_report(settings: &Settings, r: &Results, targets: &[Target]) -> Value {
    let mut scenarios = Map::new();
    for (name, by_kind) in r {
        let mut kinds = Map::new();
        for (kind, (median, runs)) in by_kind {
            kinds.insert(
                kind.name().to_owned(),
                json!({
                    "median": metrics_json(median),
                    "runs": runs.iter().map(metrics_json).collect::<Vec<_>>(),
                }),
            );
        }
        scenarios.insert(name.clone(), Value::Object(kinds));
    }
    json!({
        "mode": if settings.full { "full" } else { "quick" },
        "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "cpus": thread::available_parallelism().map_or(0, |n| n.get()),
        "reps": settings.reps,
        "hold_views": settings.hold,
        "hold_views_liveviewjs": settings.hold_js,
        "scenarios": scenarios,
        "targets": targets.iter().map(|t| json!({"target": t.goal, "measured": t.value, "pass": t.pass})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_runs() {
        let run = |v: f64| vec![("x".to_owned(), v)];
        assert_eq!(
            medians(&[run(3.0), run(1.0), run(2.0)]),
            vec![("x".to_owned(), 2.0)]
        );
        assert_eq!(medians(&[run(1.0), run(2.0)]), vec![("x".to_owned(), 1.5)]);
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(12345.678), "12346");
        assert_eq!(number(4.5678), "4.57");
        assert_eq!(number(0.0123), "0.012");
        assert_eq!(number(0.00123), "0.0012");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(f64::NAN), "–");
    }
}
