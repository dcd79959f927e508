//! House rules checked under plain `cargo test`: every Rust file says what it is for.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` first line: {missing:?}"
    );
}

/// The files under `dir` (not the target directory), as paths relative to `root`.
fn repository_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap_or_default();
        if name == "target" || name == ".git" {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap().display().to_string();
        if path.is_dir() {
            out.push(format!("{relative}/"));
            repository_files(root, &path, out);
        } else {
            out.push(relative);
        }
    }
}

/// The paths a Markdown text names in backticks (`dir/`, `file.rs`, `docs/x.md`...),
/// each with the directory of the `### \`dir\`` section it appears in, if any.
fn named_paths(text: &str) -> Vec<(Option<String>, String)> {
    let path_chars = |token: &str| {
        !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
    };
    let looks_like_path = |token: &str| {
        path_chars(token)
            && (token.ends_with('/')
                || [".rs", ".md", ".py", ".toml", ".txt"]
                    .iter()
                    .any(|e| token.ends_with(e)))
    };
    let mut section = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            section = line
                .split('`')
                .nth(1)
                .filter(|dir| path_chars(dir) && dir.contains('/'))
                .map(|dir| dir.trim_end_matches('/').to_owned());
        }
        for token in line.split('`').skip(1).step_by(2) {
            if looks_like_path(token) {
                out.push((section.clone(), token.to_owned()));
            }
        }
    }
    out
}

#[test]
fn every_path_the_architecture_codemap_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    repository_files(&root, &root, &mut files);
    let text = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let named = named_paths(&text);
    assert!(named.len() > 80, "found only {} paths", named.len());
    let exists = |section: &Option<String>, path: &str| {
        let suffix = format!("/{path}");
        // A path from the repository's root, or else a name within the section's
        // directory (anywhere, outside a directory's section).
        files.iter().any(|f| f == path)
            || match section {
                Some(dir) => files
                    .iter()
                    .any(|f| f.starts_with(&format!("{dir}/")) && f.ends_with(&suffix)),
                None => files.iter().any(|f| f.ends_with(&suffix)),
            }
    };
    let missing: Vec<String> = named
        .iter()
        .filter(|(section, path)| !exists(section, path))
        .map(|(section, path)| format!("{path} (in {})", section.as_deref().unwrap_or("-")))
        .collect();
    assert!(
        missing.is_empty(),
        "paths the codemap names that do not exist: {missing:?}"
    );
}
