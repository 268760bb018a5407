//! The library's top-level modules form the layered graph drawn in
//! `docs/architecture.md`, and this test holds them to it.
//!
//! It reads every `src/**/*.rs`, drops test code (files named `tests.rs`,
//! `*_tests.rs`, `test_*.rs` or under a `tests/` folder, and items under a
//! test-only `#[cfg(…)]`, including the files of such `mod x;`
//! declarations), collects every `crate::<module>` path of each top-level
//! module, and fails naming `file:line` for each arrow the map does not
//! allow. The allowed arrows are read from the page itself (see
//! [`map`]), so the page and the test cannot drift apart; the test also
//! refuses a map whose arrows do not all point to a lower layer, which is
//! what rules out cycles.
//!
//! The cases below the first test run the same checker on small made-up
//! trees, to show it reports what it should and ignores what it should.
//! `CHAINPROOF_ARCH_GRAPH=1` makes the first test print the graph.

mod code;
mod map;
mod scan;

use std::path::Path;

use map::{Map, check};
use scan::Source;

#[test]
fn the_library_follows_the_map_in_docs_architecture_md() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md"))
        .map_err(|e| format!("read docs/architecture.md: {e}"))?;
    let map = Map::parse(&doc)?;
    let sources = scan::read_tree(&root.join("src")).map_err(|e| format!("read src/: {e}"))?;
    assert!(sources.len() > 100, "src/ read as {} files", sources.len());
    let problems = check(&map, &sources);
    // `CHAINPROOF_ARCH_GRAPH=1 cargo test --test architecture -- --nocapture`
    // prints the graph as it is, arrow by arrow with counts.
    if std::env::var_os("CHAINPROOF_ARCH_GRAPH").is_some() {
        let mut edges = std::collections::BTreeMap::<(String, String), usize>::new();
        for r in map::arrows(&map, &sources) {
            *edges.entry((r.from, r.to)).or_default() += 1;
        }
        for ((from, to), n) in edges {
            eprintln!("{from} -> {to}: {n}");
        }
    }
    assert!(
        problems.is_empty(),
        "the module graph breaks docs/architecture.md:\n{}",
        problems.join("\n")
    );
    Ok(())
}

/// A map of four layers: `low` (0), `mid` (1) which may use `low`, `top`
/// (2) which may use any lower layer and the crate `clap`.
const MAP: &str = "\
<!-- map:begin -->
| layer | module | owns | may use |
| ---: | --- | --- | --- |
| 0 | `low` | words | — |
| 1 | `mid` | things | `low` |
| 2 | `top` | the rest | any lower layer, `clap` |
| crate | `clap` | argument parsing | — |
<!-- map:end -->

<!-- exceptions:begin -->
| from | to | file | removed when |
| --- | --- | --- | --- |
<!-- exceptions:end -->
";

fn tree(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(path, text)| Source {
            path: path.to_string(),
            text: text.to_string(),
        })
        .collect()
}

fn problems(map: &str, files: &[(&str, &str)]) -> Vec<String> {
    let map = Map::parse(map).unwrap_or_else(|e| panic!("{e}"));
    check(&map, &tree(files))
}

#[test]
fn an_arrow_up_the_layers_is_reported_with_its_file_and_line() {
    let got = problems(
        MAP,
        &[
            ("low.rs", "//! Low.\n\nuse crate::mid::Thing;\n"),
            ("mid/mod.rs", "pub struct Thing;\n"),
            ("top.rs", "use crate::{low, mid::Thing};\n"),
        ],
    );
    assert_eq!(
        got,
        ["src/low.rs:3: `low` uses `mid`, which the map does not allow"]
    );
}

#[test]
fn every_way_of_naming_a_module_is_seen() {
    let files = [
        ("low.rs", ""),
        ("top.rs", ""),
        (
            "mid/mod.rs",
            "use crate::{\n    low,\n    top::{a, b},\n};\n",
        ),
        ("mid/a.rs", "fn f() { crate::top::go(); }\n"),
        ("mid/b/c.rs", "use super::super::super::top;\n"),
        (
            "mid/d.rs",
            "#[serde(with = \"crate::top::text\")]\nstruct S;\n",
        ),
        ("mid/e.rs", "#[derive(clap::ValueEnum)]\nenum E { A }\n"),
    ];
    let got = problems(MAP, &files);
    assert_eq!(
        got,
        [
            "src/mid/a.rs:1: `mid` uses `top`, which the map does not allow",
            "src/mid/b/c.rs:1: `mid` uses `top`, which the map does not allow",
            "src/mid/d.rs:1: `mid` uses `top`, which the map does not allow",
            "src/mid/e.rs:1: `mid` uses `clap`, which the map does not allow",
            "src/mid/mod.rs:3: `mid` uses `top`, which the map does not allow",
        ]
    );
}

#[test]
fn test_code_comments_and_strings_are_not_arrows() {
    let got = problems(
        MAP,
        &[
            ("top.rs", ""),
            (
                "low/mod.rs",
                "//! See [`crate::top`].\n\
                 /* crate::top::x */\n\
                 const S: &str = \"crate::top::x is { a path }\";\n\
                 const C: char = '{';\n\
                 fn f<'a>(x: &'a str) -> &'a str { x }\n\
                 #[cfg(test)]\n#[cfg(unix)]\nmod tests { use crate::top; }\n\
                 #[cfg(all(test, unix))]\nmod fixture;\n\
                 #[cfg(test)]\nfn helper() -> [u8; 2] { crate::top::two() }\n\
                 #[cfg(test)]\nimpl<A, B> crate::top::T for (A, B) {}\n\
                 enum E {\n    #[cfg(test)]\n    Fake(crate::top::Fake),\n}\n",
            ),
            ("low/tests.rs", "use crate::top;\n"),
            ("low/read_tests.rs", "use crate::top;\n"),
            ("low/test_data.rs", "use crate::top;\n"),
            ("low/tests/deep.rs", "use crate::top;\n"),
            ("low/fixture.rs", "use crate::top;\n"),
        ],
    );
    assert!(got.is_empty(), "{got:#?}");
}

#[test]
fn a_cfg_that_is_not_test_only_still_counts() {
    let got = problems(
        MAP,
        &[
            ("top.rs", ""),
            (
                "low.rs",
                "#[cfg(not(test))]\nuse crate::top;\n#[cfg(any(test, unix))]\nuse crate::top as t;\n\
                 enum E {\n    #[cfg(test)]\n    Fake(u8),\n}\nfn f(_: crate::top::T) {}\n",
            ),
        ],
    );
    let lines: Vec<&str> = got.iter().filter_map(|p| p.split(':').nth(1)).collect();
    assert_eq!(lines, ["2", "4", "9"], "{got:#?}");
}

#[test]
fn a_map_with_an_arrow_that_does_not_go_down_is_refused() {
    let cyclic = MAP.replace("| 0 | `low` | words | — |", "| 0 | `low` | words | `mid` |");
    let got = problems(&cyclic, &[("low.rs", "")]);
    assert_eq!(
        got,
        ["map: `low` (layer 0) may use `mid` (layer 1); arrows must go to a lower layer"]
    );
}

#[test]
fn exceptions_allow_one_file_and_are_refused_once_stale() {
    let with = MAP.replace(
        "| --- | --- | --- | --- |\n<!-- exceptions:end -->",
        "| --- | --- | --- | --- |\n| `low` | `mid` | `src/low/a.rs` | never |\n<!-- exceptions:end -->",
    );
    let files = [
        ("mid.rs", ""),
        ("low/a.rs", "use crate::mid;\n"),
        ("low/b.rs", "use crate::mid;\n"),
    ];
    assert_eq!(
        problems(&with, &files),
        ["src/low/b.rs:1: `low` uses `mid`, which the map does not allow"]
    );
    assert_eq!(
        problems(&with, &[("mid.rs", ""), ("low/a.rs", "")]),
        ["map: the exception `low` → `mid` in src/low/a.rs no longer occurs; remove it"]
    );
}

#[test]
fn a_module_without_a_row_is_reported() {
    let got = problems(MAP, &[("low.rs", ""), ("extra/mod.rs", "")]);
    assert_eq!(
        got,
        ["src/extra/mod.rs: module `extra` has no row in the map"]
    );
}
