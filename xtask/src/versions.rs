//! Versions pinned in the repository (Cargo.lock, Trunk.toml's `[tools]`, Cargo.toml) and the
//! versions tools report, read the way the setup compares them.

/// The version of crate NAME in a Cargo.lock's text (its first entry).
pub fn cargo_lock_version(lock: &str, name: &str) -> Option<String> {
    let mut in_package = false;
    let mut found = false;
    for line in lock.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            in_package = true;
            found = false;
        } else if line.starts_with('[') {
            in_package = false;
        } else if in_package {
            if let Some(value) = toml_string(line, "name") {
                found = value == name;
            } else if found {
                if let Some(value) = toml_string(line, "version") {
                    return Some(value);
                }
            }
        }
    }
    None
}

/// A value from Trunk.toml's `[tools]` table (e.g. `wasm_bindgen`).
pub fn trunk_tool_pin(trunk_toml: &str, key: &str) -> Option<String> {
    let mut in_tools = false;
    for line in trunk_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_tools = line == "[tools]";
        } else if in_tools {
            if let Some(value) = toml_string(line, key) {
                return Some(value);
            }
        }
    }
    None
}

/// The package version in a Cargo.toml (the first `version = "…"` line).
pub fn manifest_version(cargo_toml: &str) -> Option<String> {
    cargo_toml
        .lines()
        .find_map(|line| toml_string(line.trim(), "version"))
}

/// `KEY = "value"  # comment` → value, for the flat lines these files use.
fn toml_string(line: &str, key: &str) -> Option<String> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// `NAME VERSION …` (what `trunk --version`, `wasm-bindgen --version` and `geckodriver --version`
/// print first) → VERSION.
pub fn second_word(line: &str) -> Option<String> {
    line.split_whitespace().nth(1).map(str::to_string)
}

/// npm binaryen's `wasm-opt version 132 (version_132)` → `version_132`, the form Trunk.toml pins
/// (and trunk reads).
pub fn wasm_opt_version(line: &str) -> Option<String> {
    line.split_whitespace()
        .nth(2)
        .map(|v| format!("version_{v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "version_check",
]

[[package]]
name = "wasm-bindgen"
version = "0.3.0"
"#;

    #[test]
    fn cargo_lock_version_takes_the_named_crates_first_entry() {
        assert_eq!(
            cargo_lock_version(LOCK, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            cargo_lock_version(LOCK, "wasm-bindgen-backend").as_deref(),
            Some("0.2.99")
        );
        assert_eq!(cargo_lock_version(LOCK, "wasm"), None);
    }

    #[test]
    fn trunk_pins_come_from_the_tools_table_only() {
        let toml = "[build]\nwasm_bindgen = \"no\"\n[tools]\n# c\nwasm_bindgen = \"0.2.130\"  # pin\nwasm_opt = \"version_132\"\n[serve]\nport = 8080\n";
        assert_eq!(
            trunk_tool_pin(toml, "wasm_bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            trunk_tool_pin(toml, "wasm_opt").as_deref(),
            Some("version_132")
        );
        assert_eq!(trunk_tool_pin(toml, "port"), None);
    }

    #[test]
    fn the_repositorys_own_pins_agree() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).unwrap();
        let trunk = std::fs::read_to_string(format!("{root}/Trunk.toml")).unwrap();
        assert_eq!(
            trunk_tool_pin(&trunk, "wasm_bindgen"),
            cargo_lock_version(&lock, "wasm-bindgen")
        );
    }

    #[test]
    fn tool_versions_are_read_like_the_tools_print_them() {
        assert_eq!(second_word("trunk 0.21.14").as_deref(), Some("0.21.14"));
        assert_eq!(
            second_word("geckodriver 0.37.1 (abc 2025)").as_deref(),
            Some("0.37.1")
        );
        assert_eq!(second_word("trunk"), None);
        assert_eq!(
            wasm_opt_version("wasm-opt version 132 (version_132)").as_deref(),
            Some("version_132")
        );
        assert_eq!(
            manifest_version("[package]\nname = \"x\"\nversion = \"0.1.0\"\n").as_deref(),
            Some("0.1.0")
        );
    }
}
