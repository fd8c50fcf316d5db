//! The house rules a reader relies on, checked on every file: each Rust module starts with its
//! `//!` line saying what it is for; SQL lives in the server's store only; the server's layers
//! depend only downwards (store ← domain ← sync ← http ← app, cli, demo).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && name != "node_modules" && !name.starts_with('.') {
                rust_files(&path, into);
            }
        } else if name.ends_with(".rs") {
            into.push(path);
        }
    }
}

#[test]
fn every_module_starts_with_its_doc_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for crate_dir in ["shared", "server", "web", "tests", "xtask"] {
        rust_files(&root.join(crate_dir), &mut files);
    }
    assert!(
        files.len() > 50,
        "found the sources ({} files)",
        files.len()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|file| !std::fs::read_to_string(file).unwrap().starts_with("//!"))
        .map(|file| file.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these modules do not start with a `//!` line: {missing:?}"
    );
}

/// The Rust files under `dir`, with their text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    assert!(!files.is_empty(), "found the sources in {}", dir.display());
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            (file, text)
        })
        .collect()
}

/// The lines of `text` that are code, not comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
}

/// Where SQL shows: sqlx's query functions, the macros that run a statement on either
/// database, and string literals that start a statement.
const SQL_MARKS: &[&str] = &[
    "sqlx::query",
    "QueryBuilder",
    "query_as(",
    "query_as::<",
    "query_scalar(",
    "with_pool!",
    "with_write_pool!",
    "\"SELECT ",
    "\"INSERT INTO",
    "\"UPDATE ",
    "\"DELETE FROM",
    "\"WITH RECURSIVE",
];

/// The places in `server/src`, outside the store (`store.rs` and `store/`), that hold SQL.
fn sql_outside_the_store(server_src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in sources(server_src) {
        let relative = file.strip_prefix(server_src).unwrap();
        if relative == Path::new("store.rs") || relative.starts_with("store") {
            continue;
        }
        for (number, line) in code_lines(&text) {
            if let Some(mark) = SQL_MARKS.iter().find(|mark| line.contains(*mark)) {
                found.push(format!("{}:{number}: {mark}", relative.display()));
            }
        }
    }
    found
}

#[test]
fn sql_lives_only_in_the_store() {
    let server_src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("server/src");
    let found = sql_outside_the_store(&server_src);
    assert!(
        found.is_empty(),
        "SQL belongs in server/src/store/ (a function there, called from here): {found:#?}"
    );
}

/// The server's layers, bottom first: a module may use its own layer and those below, never
/// one above. `metrics` is a leaf any layer above the domain may count with.
fn layer_of(top: &str) -> Option<usize> {
    Some(match top {
        // The store, and the macros it exports at the crate's root.
        "store" | "sqlx" | "with_pool" | "with_write_pool" | "upsert_summary"
        | "write_references" => 0,
        "domain" | "metrics" => 1,
        "sync" => 2,
        "http" => 3,
        "app" | "cli" | "config" | "demo" | "telemetry" | "Application" | "Config" => 4,
        _ => return None,
    })
}

/// Every `crate::name` a line uses (`crate::a::b`, `crate::{a, b}`), as the top-level names.
fn crate_names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in line.match_indices("crate::") {
        let rest = &line[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        } else {
            names.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

#[test]
fn the_server_s_layers_depend_only_downwards() {
    let server_src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("server/src");
    let mut upward = Vec::new();
    for (file, text) in sources(&server_src) {
        let relative = file.strip_prefix(&server_src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let own = match top.as_str() {
            "lib" | "main" => continue,
            top => layer_of(top).unwrap_or_else(|| {
                panic!(
                    "{}: which layer is `{top}`? (see layer_of)",
                    relative.display()
                )
            }),
        };
        for (number, line) in code_lines(&text) {
            for name in crate_names(line) {
                let layer = layer_of(&name).unwrap_or_else(|| {
                    panic!(
                        "{}:{number}: which layer is `crate::{name}`? (see layer_of)",
                        relative.display()
                    )
                });
                if layer > own {
                    upward.push(format!("{}:{number}: crate::{name}", relative.display()));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "store ← domain ← sync ← http ← app, cli, demo: these use a layer above their own: {upward:#?}"
    );
}
