//! Every figure's axis labels state the quantity and its unit (issue 14): a literal axis label of a
//! `Figure::new(name, title, x_label, y_label)` call under `src/claims` must carry its unit in
//! parentheses — `W2 (data units)`, `KL (nats)`, `t (T = 1)` — or be one of the few unit-free counts
//! listed in `COUNTS`. Labels built at run time (not string literals) are not checked here.

use std::fs;
use std::path::{Path, PathBuf};

/// Axis labels that are pure counts or indices, for which a unit would be noise.
const COUNTS: &[&str] = &[
    "steps N",
    "grid points N",
    "probes M",
    "dimension d",
    "scheme index",
    "guidance scale w",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level arguments of the call whose argument list starts at `src[start..]` (just after the
/// opening parenthesis), as trimmed source text; string literals and nested brackets are skipped over.
fn call_args(src: &str, start: usize) -> Vec<String> {
    let bytes = src.as_bytes();
    let (mut depth, mut i, mut arg_start) = (0usize, start, start);
    let mut args = Vec::new();
    loop {
        match bytes[i] {
            b'"' => {
                i += 1;
                while bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => {
                args.push(src[arg_start..i].trim().to_string());
                return args;
            }
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                args.push(src[arg_start..i].trim().to_string());
                arg_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The text of a plain string literal, or None for any other expression.
fn literal(arg: &str) -> Option<&str> {
    arg.strip_prefix('"')?.strip_suffix('"')
}

#[test]
fn axis_labels_state_quantity_and_unit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/claims"), &mut files);
    files.sort();
    let (mut checked, mut bad) = (0usize, Vec::new());
    for file in &files {
        let src = fs::read_to_string(file).unwrap();
        for (pos, pat) in src.match_indices("Figure::new(") {
            let args = call_args(&src, pos + pat.len());
            assert!(
                args.len() >= 4,
                "{}: Figure::new with {} arguments",
                file.display(),
                args.len()
            );
            for label in args[2..4].iter().filter_map(|a| literal(a)) {
                checked += 1;
                if !label.contains('(') && !COUNTS.contains(&label) {
                    let rel = file.strip_prefix(root).unwrap_or(file);
                    bad.push(format!("{}: {label:?}", rel.display()));
                }
            }
        }
    }
    // The scan must actually see the figures (about 80 calls, nearly all with literal labels).
    assert!(checked >= 140, "only {checked} literal axis labels found");
    assert!(
        bad.is_empty(),
        "axis labels without a unit in parentheses (see Figure::new's doc):\n{}",
        bad.join("\n")
    );
}
