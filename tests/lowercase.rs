//! `connect_ui::dom::lowercase` (the browser's `toLowerCase`, used by the picker's search so the
//! wasm carries no Unicode case tables) gives exactly what `str::to_lowercase` gives.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn browser_lowercase_is_rusts() {
    let samples = [
        "",
        "WorkOS",
        "KANDJI Demo-0999",
        "Identität ÄÖÜ ẞ",
        "ΟΔΟΣ ΣΟΦΟΣ Σ",
        "İstanbul I ı",
        "ÉCOLE Ǆ ǅ",
        "ＡＢＣ Ⅻ Ⓐ",
        "認証 アナリティクス",
        "𐐀𐐁 😀 \u{1}\u{200b}",
        "ſ K Å Ω",
    ];
    for s in samples {
        assert_eq!(connect_ui::dom::lowercase(s), s.to_lowercase(), "{s:?}");
    }
    // Every character of the Basic Multilingual Plane and the first supplementary one, in chunks.
    let all: Vec<char> = (0u32..0x2_0000).filter_map(char::from_u32).collect();
    for chunk in all.chunks(512) {
        // Spaces keep Greek final-sigma contexts from depending on the chunk's neighbours.
        let s: String = chunk.iter().flat_map(|c| [*c, ' ']).collect();
        assert_eq!(
            connect_ui::dom::lowercase(&s),
            s.to_lowercase(),
            "chunk at {:?}",
            chunk[0]
        );
    }
}
