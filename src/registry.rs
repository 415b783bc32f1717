//! Per-page registries kept as short lists of `(key, value)`: compiled patterns, fetched
//! catalogs, locale loads and mounted widgets. A page holds a handful of entries, and std's
//! `HashMap` would bring its hashing code into the wasm (about 4 KB brotli, issue 14).

/// The value under `key` in `list`, if there is one.
pub(crate) fn get<'a, K: PartialEq<Q>, Q: ?Sized, V>(list: &'a [(K, V)], key: &Q) -> Option<&'a V> {
    list.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The value under `key` in `list`, to change in place.
pub(crate) fn get_mut<'a, K: PartialEq<Q>, Q: ?Sized, V>(
    list: &'a mut [(K, V)],
    key: &Q,
) -> Option<&'a mut V> {
    list.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Takes the entry under `key` out of `list` (its order is not kept).
pub(crate) fn remove<K: PartialEq<Q>, Q: ?Sized, V>(list: &mut Vec<(K, V)>, key: &Q) -> Option<V> {
    let i = list.iter().position(|(k, _)| k == key)?;
    Some(list.swap_remove(i).1)
}

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
    // By index: returning `get_mut`'s borrow here would keep `list` borrowed for the push.
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
    use super::*;

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

    #[test]
    fn finds_and_removes_by_key() {
        let mut list = vec![(1_u32, "one"), (2, "two"), (3, "three")];
        assert_eq!(get(&list, &2).copied(), Some("two"));
        *get_mut(&mut list, &2).unwrap() = "deux";
        assert_eq!(get(&list, &2).copied(), Some("deux"));
        assert_eq!(get(&list, &4), None);
        assert_eq!(remove(&mut list, &1), Some("one"));
        assert_eq!(remove(&mut list, &1), None);
        assert_eq!(list.len(), 2);
        assert_eq!(get(&list, &3).copied(), Some("three"));
    }
}
