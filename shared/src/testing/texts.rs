//! Generated texts for property tests of what counts as blank (`crate::http::body::is_blank`).

use proptest::prelude::*;

/// Short texts of white space (every character Rust or ECMA-262 counts, and their near misses), now
/// and then with another character.
pub fn white_space_texts() -> impl Strategy<Value = String> {
    let white = "\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}\u{2000}\u{2005}\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}";
    let near = "\u{1c}\u{1f}\u{7f}\u{feff}\u{180e}\u{200b}\u{2060}\u{0}a.";
    let c = prop_oneof![
        6 => proptest::sample::select(white.chars().collect::<Vec<_>>()),
        2 => proptest::sample::select(near.chars().collect::<Vec<_>>()),
        1 => any::<char>(),
    ];
    proptest::collection::vec(c, 0..6).prop_map(|chars| chars.into_iter().collect())
}
