//! Embeds the message catalogue: every `locales/*.ftl` file is compiled into
//! the library (`$OUT_DIR/locales.rs`), so the binary needs no files at run
//! time and a language is added by adding its file.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was built: a script built for
    // another checkout must not read that checkout's catalogue.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let dir = Path::new(&manifest).join("locales");
    // A directory is scanned whole: a new file reruns this script too.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ftl"))
        .filter_map(|path| {
            let tag = path.file_stem()?.to_str()?.to_owned();
            Some((tag, path.display().to_string()))
        })
        .collect();
    files.sort();
    let mut code = String::from(
        "/// Every catalogue file: its language tag (the file's name) and its text.\n\
         pub(super) static FILES: &[(&str, &str)] = &[\n",
    );
    for (tag, path) in &files {
        let _ = writeln!(code, "    ({tag:?}, include_str!({path:?})),");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("locales.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
