//! Bytes wasm-bindgen leaves that the shipped module does not need (issue 14), taken out between
//! wasm-bindgen and wasm-opt:
//! - import names: wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` and its module
//!   `./<out-name>_bg.js`, once in the wasm and once in the JS glue (about 5 KiB each, and the
//!   hex digits do not compress); they become `a`, `b`, … in both files;
//! - the exports of wasm-streams' stream adapters (`IntoUnderlyingSource` and friends), which
//!   Leptos' server functions pull in and this widget never calls: without the exports, wasm-opt
//!   drops their code. Their JS classes stay in the glue, never called.
//!
//! ```text
//! shrink::run(&stage.join("connect_ui_wasm_bg.wasm"), &stage.join("connect_ui_wasm.js"), "connect_ui_wasm")?;
//! ```

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Export name prefixes of the wasm-streams adapters (their methods and `__wbg_*_free`).
const UNUSED_EXPORTS: [&str; 2] = ["intounderlying", "__wbg_intounderlying"];

/// The module name the glue's imports get instead of `./<out-name>_bg.js`.
const SHORT_MODULE: &str = "a";

/// What [`run`] changed, for the package log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Shrunk {
    /// Imports renamed.
    pub imports: usize,
    /// Exports removed.
    pub exports: usize,
}

/// Shortens the import names of WASM and its glue JS (wasm-bindgen's `--target web` output for
/// OUT_NAME) and drops the unused exports. Fails, touching nothing, if the glue does not look as
/// expected (a new wasm-bindgen may write it differently).
pub fn run(wasm: &Path, js: &Path, out_name: &str) -> Result<Shrunk> {
    let mut module = walrus::Module::from_file(wasm)
        .with_context(|| format!("reading {} with walrus", wasm.display()))?;
    let mut glue =
        std::fs::read_to_string(js).with_context(|| format!("reading {}", js.display()))?;
    let long_module = format!("./{out_name}_bg.js");
    let mut done = Shrunk::default();

    let mut renames: Vec<(String, String)> = Vec::new();
    for import in module.imports.iter_mut() {
        if import.module != long_module {
            continue;
        }
        let short = short_name(renames.len());
        renames.push((import.name.clone(), short.clone()));
        import.name = short;
        import.module = SHORT_MODULE.to_string();
    }
    // Each import is one property of the glue's import object, written `        NAME: …` on a
    // line of its own; the module is the key `"./<out-name>_bg.js": import0`.
    let mut lines: Vec<String> = glue.lines().map(str::to_string).collect();
    for (long, short) in &renames {
        let key = format!("{long}:");
        let hits: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(&key))
            .map(|(i, _)| i)
            .collect();
        let [at] = hits[..] else {
            bail!(
                "{}: import {long} is defined {} times in the glue, not once",
                js.display(),
                hits.len()
            );
        };
        lines[at] = lines[at].replacen(&key, &format!("{short}:"), 1);
        done.imports += 1;
    }
    glue = lines.join("\n") + "\n";
    let module_key = format!("\"{long_module}\":");
    if glue.matches(&module_key).count() != 1 {
        bail!(
            "{}: the import module key {module_key} is not there once",
            js.display()
        );
    }
    glue = glue.replacen(&module_key, &format!("\"{SHORT_MODULE}\":"), 1);

    let unused: Vec<walrus::ExportId> = module
        .exports
        .iter()
        .filter(|e| UNUSED_EXPORTS.iter().any(|p| e.name.starts_with(p)))
        .map(|e| e.id())
        .collect();
    for id in unused {
        module.exports.delete(id);
        done.exports += 1;
    }

    module
        .emit_wasm_file(wasm)
        .with_context(|| format!("writing {}", wasm.display()))?;
    std::fs::write(js, glue).with_context(|| format!("writing {}", js.display()))?;
    Ok(done)
}

/// The Nth short name: `a`…`z`, `A`…`Z`, then `aa`, `ab`, … (valid JS property names).
pub fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let base = LETTERS.len();
    let mut out = Vec::new();
    loop {
        out.push(LETTERS[n % base]);
        if n < base {
            break;
        }
        n = n / base - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_are_unique_and_short() {
        let names: Vec<String> = (0..2000).map(short_name).collect();
        assert_eq!(names[0], "a");
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n.len() <= 2));
    }
}
