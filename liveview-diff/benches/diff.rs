//! Render + diff + JSON encode: a counter, a 100-row and a 10,000-row table with one row changed
//! (plain and memoized loops), and the full join render of each.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use liveview_diff::{html, memo, wire, Rendered};

fn counter(count: i64) -> Rendered {
    html! {
        div {
            p { "Count: " (count) }
            button phx-click="dec" { "-" }
            button phx-click="inc" { "+" }
        }
    }
}

struct Row {
    id: u64,
    version: u64,
    label: String,
    selected: bool,
}

fn rows(n: u64) -> Vec<Row> {
    const ADJECTIVES: &[&str] = &["pretty", "large", "big", "small", "tall", "short", "long"];
    const NOUNS: &[&str] = &["table", "chair", "house", "bbq", "desk", "car", "pony"];
    (0..n)
        .map(|id| Row {
            id,
            version: 0,
            label: format!(
                "{} {} #{id}",
                ADJECTIVES[id as usize % ADJECTIVES.len()],
                NOUNS[id as usize % NOUNS.len()]
            ),
            selected: false,
        })
        .collect()
}

fn table(rows: &[Row]) -> Rendered {
    html! {
        table.table { tbody {
            @for row in rows, key = row.id {
                tr class=(if row.selected { "danger" } else { "" }) {
                    td.col-md-1 { (row.id) }
                    td.col-md-4 { a phx-click="select" phx-value-id=(row.id) { (&row.label) } }
                    td.col-md-1 { button phx-click="remove" phx-value-id=(row.id) { "x" } }
                }
            }
        } }
    }
}

fn memo_table(rows: &[Row]) -> Rendered {
    html! {
        table.table { tbody {
            @for row in rows, key = row.id, memo = row.version {
                tr class=(if row.selected { "danger" } else { "" }) {
                    td.col-md-1 { (row.id) }
                    td.col-md-4 { a phx-click="select" phx-value-id=(row.id) { (&row.label) } }
                    td.col-md-1 { button phx-click="remove" phx-value-id=(row.id) { "x" } }
                }
            }
        } }
    }
}

/// Bumps one row (toggles its selection, so its version changes).
fn bump(rows: &mut [Row], step: u64) {
    let index = (rows.len() / 2 + (step as usize % 7)) % rows.len();
    let row = &mut rows[index];
    row.selected = !row.selected;
    row.version += 1;
}

fn bench_counter(c: &mut Criterion) {
    let mut out = Vec::with_capacity(1024);
    let mut count = 0;
    let mut old = counter(count);
    c.bench_function("counter/event (render+diff+json)", |b| {
        b.iter(|| {
            count += 1;
            let new = counter(black_box(count));
            out.clear();
            wire::write_diff(&old, &new, &mut out);
            old = new;
            black_box(&out);
        })
    });
    c.bench_function("counter/join (render+json)", |b| {
        b.iter(|| {
            out.clear();
            wire::write_full(&counter(black_box(7)), &mut out);
            black_box(&out);
        })
    });
}

fn bench_table(c: &mut Criterion, n: u64) {
    let mut out = Vec::with_capacity(1 << 20);
    let mut data = rows(n);
    for (name, memoized) in [("plain", false), ("memo", true)] {
        let render = |rows: &[Row]| {
            if memoized {
                memo_table(rows)
            } else {
                table(rows)
            }
        };
        let mut old = render(&data);
        let mut step = 0;
        c.bench_function(
            &format!("table{n}/{name} one row changed (render+diff+json)"),
            |b| {
                b.iter(|| {
                    step += 1;
                    bump(&mut data, step);
                    let new = memo::with_previous(Some(&old), || render(&data));
                    out.clear();
                    wire::write_diff(&old, &new, &mut out);
                    old = new;
                    black_box(&out);
                })
            },
        );
        c.bench_function(&format!("table{n}/{name} join (render+json)"), |b| {
            b.iter(|| {
                out.clear();
                wire::write_full(&render(&data), &mut out);
                black_box(&out);
            })
        });
    }
}

fn bench_tables(c: &mut Criterion) {
    bench_table(c, 100);
    bench_table(c, 10_000);
}

fn sizes() {
    let diff = wire::diff_to_string(&counter(0), &counter(1));
    eprintln!("counter: {} bytes per event: {diff}", diff.len());
    for n in [100, 10_000] {
        let mut data = rows(n);
        let before = memo_table(&data);
        bump(&mut data, 0);
        let after = memo::with_previous(Some(&before), || memo_table(&data));
        let diff = wire::diff_to_string(&before, &after);
        let join = wire::full_to_string(&before).len();
        eprintln!(
            "table{n}: {} bytes per bump: {diff}; join {join} bytes",
            diff.len()
        );
    }
}

fn all(c: &mut Criterion) {
    sizes();
    bench_counter(c);
    bench_tables(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
