//! Property-based conformance: random template trees and random sequences of state changes;
//! after every step the join payload plus all diffs so far, merged by the real client, must
//! give exactly the server's own full render.
//!
//! `cargo test -p liveview-diff --test fuzz_diff` runs 64 scenarios (a fixed seed);
//! `LIVEVIEW_FUZZ_CASES=N` runs N (with a random seed unless `LIVEVIEW_FUZZ_SEED` is set).
//! Scenarios are checked in batches of 64 per client process; a failing scenario is shrunk.

mod scenario;
mod support;

use std::sync::Arc;

use liveview_diff::memo::{self, Reuse};
use liveview_diff::{hash_key, Comprehension, Dynamic, IntoDynamic, Rendered, Template};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

macro_rules! templates {
    ($($name:ident = [$($s:literal),*];)*) => {
        $(static $name: Template = Template::new(&[$($s),*], Template::fingerprint_of(&[$($s),*]));)*
    };
}

templates! {
    A0 = ["<hr>"];
    B0 = ["<i>x</i>"];
    A1 = ["<p>", "</p>"];
    B1 = ["<span>", "</span>"];
    C1 = ["", ""];
    A2 = ["<div title=\"", "\">", "</div>"];
    B2 = ["<li>", ": ", "</li>"];
    C2 = ["<li>", ": ", "</li>!"];
    A3 = ["<a>", "|", "|", "</a>"];
    B3 = ["", "", "", ""];
}

/// Templates by arity; several of each arity, so that a change of template keeps the arity.
static POOL: [&[&Template]; 4] = [&[&A0, &B0], &[&A1, &B1, &C1], &[&A2, &B2, &C2], &[&A3, &B3]];

/// Text values: escaping-worthy, number-like, empty, control characters.
const TEXTS: &[&str] = &[
    "",
    "a",
    "<script>alert(1)</script>",
    "&amp; & <b>",
    "\"quoted\" 'single'",
    "42",
    "0",
    "-1.5e3",
    "é 漢字 🎉",
    "line\nbreak\ttab\\",
    "true",
    "null",
];

/// The shape of a template tree; its values come from the knobs of each step.
#[derive(Debug, Clone)]
enum Shape {
    Text,
    /// A nested template (chosen from the pool by arity) with these slots.
    Node(usize, Vec<Shape>),
    /// One of the alternatives, or nothing (switches templates, text and nodes).
    Choice(Vec<Shape>),
    /// A loop whose rows have these slots.
    List {
        template: usize,
        row: Vec<Shape>,
        mode: ListMode,
        id: u32,
    },
}

#[derive(Debug, Clone, Copy)]
enum ListMode {
    Unkeyed,
    Keyed,
    Memo,
}

fn shape() -> impl Strategy<Value = Shape> {
    let leaf = prop_oneof![
        3 => Just(Shape::Text),
        1 => (0..2usize).prop_map(|t| Shape::Node(t, Vec::new())),
    ];
    leaf.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (any::<usize>(), vec(inner.clone(), 1..=3)).prop_map(|(t, kids)| Shape::Node(t, kids)),
            vec(inner.clone(), 1..=3).prop_map(Shape::Choice),
            (
                any::<usize>(),
                vec(inner, 0..=3),
                prop_oneof![
                    Just(ListMode::Unkeyed),
                    Just(ListMode::Keyed),
                    Just(ListMode::Memo)
                ]
            )
                .prop_map(|(template, row, mode)| Shape::List {
                    template,
                    row,
                    mode,
                    id: 0
                }),
        ]
    })
}

/// Numbers the lists (a memo row's content is a function of its list, key and version).
fn number_lists(shape: &mut Shape, next: &mut u32) {
    match shape {
        Shape::Text => {}
        Shape::Node(_, kids) | Shape::Choice(kids) => {
            kids.iter_mut().for_each(|kid| number_lists(kid, next))
        }
        Shape::List { row, id, .. } => {
            *id = *next;
            *next += 1;
            row.iter_mut().for_each(|kid| number_lists(kid, next));
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    root: Vec<Shape>,
    root_template: usize,
    knobs: Vec<u32>,
    /// Per later step: the seed of its state change, and whether to render with the previous
    /// tree in scope (memo reuse).
    steps: Vec<(u64, bool)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        vec(shape(), 1..=3),
        any::<usize>(),
        vec(any::<u32>(), 48),
        vec((any::<u64>(), any::<bool>()), 1..=6),
    )
        .prop_map(|(mut root, root_template, knobs, steps)| {
            let mut next = 0;
            root.iter_mut().for_each(|s| number_lists(s, &mut next));
            Scenario {
                root,
                root_template,
                knobs,
                steps,
            }
        })
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where the values of one render come from.
struct Source {
    knobs: Vec<u32>,
    pos: usize,
}

impl Source {
    fn next(&mut self, modulo: usize) -> usize {
        let knob = self.knobs[self.pos % self.knobs.len()] as usize;
        let round = self.pos / self.knobs.len();
        self.pos += 1;
        (knob.wrapping_add(round * 7)) % modulo
    }

    fn seeded(seed: u64) -> Self {
        let mut state = seed;
        Source {
            knobs: (0..16).map(|_| splitmix(&mut state) as u32).collect(),
            pos: 0,
        }
    }
}

fn template(arity: usize, choice: usize) -> &'static Template {
    let pool = POOL[arity];
    pool[choice % pool.len()]
}

/// The template of a node or list: fixed by the shape, or (for odd choices) changing with the
/// state, which swaps templates of the same arity.
fn pick(arity: usize, choice: usize, src: &mut Source) -> &'static Template {
    if choice & 1 == 0 {
        template(arity, choice / 2)
    } else {
        template(arity, src.next(POOL[arity].len()))
    }
}

fn build(shape: &Shape, src: &mut Source) -> Dynamic {
    match shape {
        Shape::Text => TEXTS[src.next(TEXTS.len())].into_dynamic(),
        Shape::Node(t, kids) => {
            let tpl = pick(kids.len(), *t, src);
            let dynamics = kids.iter().map(|kid| build(kid, src)).collect();
            Rendered::new(tpl, dynamics).into_dynamic()
        }
        Shape::Choice(alternatives) => {
            let pick = src.next(alternatives.len() + 1);
            match alternatives.get(pick) {
                Some(alternative) => build(alternative, src),
                None => Dynamic::EMPTY,
            }
        }
        Shape::List {
            template: t,
            row,
            mode,
            id,
        } => {
            // A memo list keeps its template: its rows' content is a function of their stamp.
            let tpl = match mode {
                ListMode::Memo => template(row.len(), *t),
                _ => pick(row.len(), *t, src),
            };
            let rows = src.next(5);
            let list = match mode {
                ListMode::Unkeyed => {
                    let mut list = Comprehension::new(tpl, rows);
                    for _ in 0..rows {
                        let values: Vec<Dynamic> = row.iter().map(|kid| build(kid, src)).collect();
                        list.push_row(values);
                    }
                    list
                }
                ListMode::Keyed => {
                    let mut list = Comprehension::keyed(tpl, rows);
                    for _ in 0..rows {
                        let key = src.next(6);
                        let values: Vec<Dynamic> = row.iter().map(|kid| build(kid, src)).collect();
                        list.push_keyed_row(&key, values);
                    }
                    list
                }
                ListMode::Memo => {
                    // What `@for …, key = …, memo = …` generates.
                    let mut list = Comprehension::memoized(tpl, rows);
                    let mut reuse = Reuse::new(tpl);
                    for _ in 0..rows {
                        let key = src.next(6);
                        let version = src.next(3);
                        let hashed = hash_key(&key);
                        let stamp = memo::stamp(&(*id, key, version));
                        if !reuse.push(&mut list, hashed, stamp) {
                            let mut sub = Source::seeded(stamp);
                            let shared: Arc<[Dynamic]> =
                                row.iter().map(|kid| build(kid, &mut sub)).collect();
                            list.push_memo_row(hashed, stamp, shared);
                        }
                    }
                    list
                }
            };
            list.into_dynamic()
        }
    }
}

fn render(scenario: &Scenario, knobs: &[u32]) -> Rendered {
    let mut src = Source {
        knobs: knobs.to_vec(),
        pos: 0,
    };
    let tpl = pick(scenario.root.len(), scenario.root_template, &mut src);
    let dynamics = scenario.root.iter().map(|s| build(s, &mut src)).collect();
    Rendered::new(tpl, dynamics)
}

/// The renders of a scenario, checking that memo reuse renders what a fresh render does.
fn renders(scenario: &Scenario) -> Result<Vec<Rendered>, String> {
    let mut knobs = scenario.knobs.clone();
    let mut steps = vec![render(scenario, &knobs)];
    for &(seed, reuse) in &scenario.steps {
        let mut state = seed;
        if seed & 7 == 0 {
            knobs
                .iter_mut()
                .for_each(|k| *k = splitmix(&mut state) as u32);
        } else {
            for _ in 0..1 + seed % 4 {
                let at = splitmix(&mut state) as usize % knobs.len();
                knobs[at] = splitmix(&mut state) as u32;
            }
        }
        let fresh = render(scenario, &knobs);
        let next = if reuse {
            let reused = memo::with_previous(steps.last(), || render(scenario, &knobs));
            if reused.to_html() != fresh.to_html() {
                return Err(format!(
                    "memo reuse rendered\n  {}\ninstead of\n  {}",
                    reused.to_html(),
                    fresh.to_html()
                ));
            }
            reused
        } else {
            fresh
        };
        steps.push(next);
    }
    Ok(steps)
}

fn check_batch(scenarios: &[Scenario]) -> Result<(), (Option<usize>, String)> {
    let mut all = Vec::with_capacity(scenarios.len());
    for (index, scenario) in scenarios.iter().enumerate() {
        all.push(renders(scenario).map_err(|err| (Some(index), err))?);
    }
    scenario::check(&all).map_err(|err| {
        let index = err
            .strip_prefix("the client rejected scenario ")
            .or_else(|| err.strip_prefix("scenario "))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok());
        (index, err)
    })
}

/// Shrinks a failing scenario (one client process per attempt, so a bounded number).
fn shrink(mut tree: impl ValueTree<Value = Scenario>, mut error: String) -> (Scenario, String) {
    let mut best = tree.current();
    for _ in 0..40 {
        if !tree.simplify() {
            break;
        }
        loop {
            match check_batch(std::slice::from_ref(&tree.current())) {
                Err((_, err)) => {
                    best = tree.current();
                    error = err;
                    break;
                }
                Ok(()) => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
    }
    (best, error)
}

#[test]
fn fuzz_diff_conformance() {
    let cases: usize = std::env::var("LIVEVIEW_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let seed: u64 = match std::env::var("LIVEVIEW_FUZZ_SEED") {
        Ok(seed) => seed.parse().expect("LIVEVIEW_FUZZ_SEED is a u64"),
        Err(_) if std::env::var("LIVEVIEW_FUZZ_CASES").is_ok() => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        Err(_) => 0x5eed,
    };
    println!("fuzz_diff_conformance: {cases} scenarios, LIVEVIEW_FUZZ_SEED={seed}");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = scenario();
    let mut done = 0;
    while done < cases {
        let batch = (cases - done).min(64);
        let trees: Vec<_> = (0..batch)
            .map(|_| strategy.new_tree(&mut runner).expect("a scenario"))
            .collect();
        let scenarios: Vec<Scenario> = trees.iter().map(ValueTree::current).collect();
        if let Err((index, error)) = check_batch(&scenarios) {
            let Some(index) = index else {
                panic!("{error}")
            };
            let tree = trees.into_iter().nth(index).expect("the failing scenario");
            let (minimal, error) = shrink(tree, error);
            panic!(
                "scenario {} of seed {seed} fails; shrunk to\n{minimal:#?}\n{error}",
                done + index
            );
        }
        done += batch;
    }
}
