//! Compiles the shipped scenarios (`scenarios/*.yaml`) and detection rules
//! (`detections/*.yml`) into the binary, so `chainproof run` works from any
//! directory and a file added to either folder cannot be forgotten.

use std::fmt::Write;
use std::path::Path;

fn list(dir: &str, exts: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    Path::new(n)
                        .extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| exts.contains(&e))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn table(out: &mut String, name: &str, dir: &str, files: &[String]) {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let _ = writeln!(out, "pub const {name}: &[(&str, &str)] = &[");
    for f in files {
        let _ = writeln!(
            out,
            "    ({f:?}, include_str!({:?})),",
            format!("{root}/{dir}/{f}")
        );
    }
    let _ = writeln!(out, "];");
}

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-changed=detections");
    let mut out = String::new();
    table(
        &mut out,
        "SCENARIOS",
        "scenarios",
        &list("scenarios", &["yaml", "yml"]),
    );
    table(
        &mut out,
        "RULES",
        "detections",
        &list("detections", &["yml", "yaml"]),
    );
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("shipped.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("write {}: {e}", dest.display());
    }
}
