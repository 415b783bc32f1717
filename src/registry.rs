//! Per-page caches keyed by a string (compiled patterns, fetched catalogs), kept as short lists:
//! a page holds a handful of entries, and std's `HashMap` would bring its hashing code into the
//! wasm (about 4 KB brotli, issue 14).

/// The value cached under `key` in `list`, made by `make` (and kept) on the first call.
///
/// ```ignore
/// let compiled = cached(&mut cache, pattern, || compile(pattern));
/// ```
pub(crate) fn cached<'a, V>(
    list: &'a mut Vec<(String, V)>,
    key: &str,
    make: impl FnOnce() -> V,
) -> &'a mut V {
    let i = match list.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            list.push((key.to_string(), make()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

#[cfg(test)]
mod tests {
    use super::cached;

    #[test]
    fn makes_a_value_once_per_key() {
        let mut list = Vec::new();
        let mut made = 0;
        for key in ["a", "b", "a", "a", "b"] {
            *cached(&mut list, key, || {
                made += 1;
                0
            }) += 1;
        }
        assert_eq!(made, 2);
        assert_eq!(list, vec![("a".to_string(), 3), ("b".to_string(), 2)]);
    }
}
