//! Cells of the CSV exports an admin opens in a spreadsheet: text a spreadsheet would run as a
//! formula is defused with a leading apostrophe, amounts are plain decimal dollars.

use super::money::Cents;
use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula (or smuggle one in).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as a cell that no spreadsheet runs: unchanged, or behind an apostrophe.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `3600.00`, `-0.50`: dollars with two decimals, no currency sign or grouping.
pub fn amount_cell(amount: Cents) -> String {
    let sign = if amount.get() < 0 { "-" } else { "" };
    let abs = amount.get().unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("-2+3"), "'-2+3");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("BuildPro CRM"), "BuildPro CRM");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn amounts_are_plain_decimals() {
        assert_eq!(amount_cell(Cents(360_000)), "3600.00");
        assert_eq!(amount_cell(Cents(5)), "0.05");
        assert_eq!(amount_cell(Cents(-50)), "-0.50");
        assert_eq!(amount_cell(Cents(i64::MIN)), "-92233720368547758.08");
    }

    proptest! {
        #[test]
        fn a_cell_never_starts_a_formula_and_keeps_the_text(text in ".{0,40}") {
            let cell = text_cell(&text);
            prop_assert!(!cell.starts_with(FORMULA_STARTS));
            prop_assert!(cell == text || cell.strip_prefix('\'') == Some(text.as_str()));
        }

        #[test]
        fn an_amount_cell_reads_back_as_the_same_cents(cents in any::<i64>()) {
            let cell = amount_cell(Cents(cents));
            let (whole, fraction) = cell.split_once('.').unwrap();
            prop_assert_eq!(fraction.len(), 2);
            let negative = whole.starts_with('-');
            let magnitude = whole.trim_start_matches('-').parse::<i128>().unwrap() * 100
                + fraction.parse::<i128>().unwrap();
            prop_assert_eq!(if negative { -magnitude } else { magnitude }, i128::from(cents));
        }
    }
}
