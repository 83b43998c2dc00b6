//! The shape of the code, checked like behaviour (ARCHITECTURE.md): the imports between the top-level modules
//! of `src/` point one way, nothing imports the wiring, files stay readable, and the words statuses are
//! stored as are spelled in one module only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
/// The wiring: only `main.rs` and `lib.rs` may name it.
const WIRING: &[&str] = &["startup", "background", "main"];
const MAX_LINES: usize = 600;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// A file's code before its `#[cfg(test)]` part.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("file readable");
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(SRC).expect("under src");
    let first = relative.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a piece of code names through `crate::` paths (`crate::a::b`, `crate::{a, b}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let identifier =
        |text: &str| text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(inner.split(',').map(|part| identifier(part.trim())).filter(|name| !name.is_empty()));
        } else {
            names.insert(identifier(rest));
        }
    }
    names
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(Path::new(SRC));
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let imports: Vec<String> =
            named_modules(&code_of(file)).into_iter().filter(|m| modules.contains(m) && *m != module).collect();
        graph.entry(module).or_default().extend(imports);
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().expect("non-empty path");
        for next in graph.get(last).into_iter().flatten() {
            if next == start {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_one_way_and_nothing_imports_the_wiring() {
    let graph = import_graph();
    assert!(graph.len() > 20, "the graph was read: {graph:?}");
    assert!(graph["orders"].contains("fulfilment"), "orders drive fulfilment, so the reader sees imports");
    for (module, imports) in &graph {
        if module != "main" && module != "lib" {
            let wiring: Vec<&String> = imports.iter().filter(|m| WIRING.contains(&m.as_str())).collect();
            assert!(wiring.is_empty(), "{module} imports the wiring: {wiring:?}");
        }
    }
    let cycles: Vec<Vec<String>> = graph.keys().filter_map(|module| cycle_from(&graph, module)).collect();
    assert!(cycles.is_empty(), "import cycles between top-level modules: {cycles:?}");
    assert!(graph.get("error").is_none_or(BTreeSet::is_empty), "error.rs is a leaf: {:?}", graph.get("error"));
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(cycle_from(&graph, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(named_modules("use crate::{db, error::AppError};\nuse crate::http::Page;").len(), 3);
}

/// The table declarations, one block per table as diesel writes them: long by nature, with no logic to split.
const TABLES: &str = "db/schema.rs";

#[test]
fn no_file_is_longer_than_six_hundred_lines_before_its_tests() {
    let long: Vec<String> = rust_files(Path::new(SRC))
        .into_iter()
        .filter(|file| !file.ends_with(TABLES))
        .map(|file| (code_of(&file).lines().count(), file))
        .filter(|(lines, _)| *lines > MAX_LINES)
        .map(|(lines, file)| format!("{} ({lines})", file.display()))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

/// The words of the status and payment enums, as `domain/status.rs` maps them.
fn status_words(mapping: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(mapping).expect("status module");
    let mut words = Vec::new();
    let mut in_status_enum = false;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("pub enum ") {
            in_status_enum = name.contains("Status") || name.starts_with("PaymentMethod");
        } else if let Some((_, word)) = line.split_once(" = \"").filter(|_| in_status_enum) {
            words.push(word.trim_end_matches("\",").to_owned());
        }
    }
    words
}

#[test]
fn status_words_are_spelled_only_where_the_enums_map_them() {
    let mapping = Path::new(SRC).join("domain/status.rs");
    let words = status_words(&mapping);
    assert!(words.len() > 25 && words.iter().any(|w| w == "awaiting_transfer"), "words read: {words:?}");
    let mut found = Vec::new();
    for file in rust_files(Path::new(SRC)).into_iter().filter(|f| *f != mapping) {
        for (number, line) in code_of(&file).lines().enumerate() {
            for word in &words {
                if line.contains(&format!("\"{word}\"")) || line.contains(&format!("'{word}'")) {
                    found.push(format!("{}:{}: {word}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "status words outside domain/status.rs: {found:#?}");
}
