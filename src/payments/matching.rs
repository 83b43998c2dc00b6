//! Finding the order code in a bank transfer's memo as banks deliver it. The buyer's banking app was
//! prefilled with the canonical code (`NS-M4N-C9G-2R9`, `orders::vietqr`), but by the time the bank tells us,
//! the memo may be upper- or lower-cased, its dashes removed or turned into spaces, wrapped in the bank's own
//! prefixes and suffixes (`MBVCB.123456.NSM4NC9G2R9 chuyen tien.CT tu 0123…`) and cut short.
//!
//! The rule, written down:
//! - Only letters and digits count; anything else (spaces, dashes, dots, accented letters) is a break.
//! - A **whole code** is `NS` followed by nine code symbols (`O` read as `0`), breaks between them allowed,
//!   whose check symbol verifies (`orders::codes`). A whole code that exists names its order; a transfer is
//!   never matched to any other order than the one its verified code names.
//! - Where `NS` is not followed by a whole code, a **code cut short** is `NS` followed by 6 to 8 code symbols
//!   and then a break or the end of the memo (whatever follows: the bank's suffix, or the rest of a mistyped
//!   code), longest first. Its check symbol is gone, so it names an order only together with the amount:
//!   exactly one order awaiting a transfer whose code begins so and whose amount due is exactly the amount
//!   sent. Six symbols are 31⁶ ≈ 8.9·10⁸ beginnings: even with a million orders awaiting transfers, another
//!   order shares one about once in 900, and it would also need the same amount due; any doubt (none or
//!   several such orders, or a different amount) is an exception for an operator.

use crate::orders::codes::{self, CODE_SYMBOLS};

/// The fewest symbols of a code cut short that still name an order (with the exact amount).
pub const MIN_KEPT_SYMBOLS: usize = 6;

/// The codes a memo names, in the order they appear.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemoCodes {
    /// Whole codes whose check symbol verifies, canonical (`NS-M4N-C9G-2R9`).
    pub whole: Vec<String>,
    /// The canonical beginnings (`NS-M4N-C9G-2`) of codes cut short.
    pub cut: Vec<String>,
}

/// A letter or digit of the memo, uppercased, and whether a break (or the end) follows it.
struct Symbol {
    byte: u8,
    break_after: bool,
}

fn symbols(memo: &str) -> Vec<Symbol> {
    let mut symbols: Vec<Symbol> = Vec::with_capacity(memo.len());
    for c in memo.chars() {
        if c.is_ascii_alphanumeric() {
            // ASCII, so it fits a byte.
            symbols.push(Symbol { byte: c.to_ascii_uppercase() as u8, break_after: false });
        } else if let Some(last) = symbols.last_mut() {
            last.break_after = true;
        }
    }
    if let Some(last) = symbols.last_mut() {
        last.break_after = true;
    }
    symbols
}

/// The canonical code if the symbols are a whole code whose check verifies.
fn whole_code(run: &[u8]) -> Option<String> {
    (run.len() == CODE_SYMBOLS).then(|| std::str::from_utf8(run).ok().and_then(codes::normalise_order_code)).flatten()
}

/// The codes in a memo (see the module's rule).
pub fn codes_in(memo: &str) -> MemoCodes {
    let symbols = symbols(memo);
    let mut found = MemoCodes::default();
    for (at, pair) in symbols.windows(2).enumerate() {
        if (pair[0].byte, pair[1].byte) != (b'N', b'S') {
            continue;
        }
        let after = &symbols[at + 2..];
        let run: Vec<u8> = after.iter().map_while(|s| codes::symbol(s.byte)).take(CODE_SYMBOLS).collect();
        if let Some(code) = whole_code(&run) {
            found.whole.push(code);
            continue;
        }
        for kept in (MIN_KEPT_SYMBOLS..CODE_SYMBOLS).rev() {
            if run.len() >= kept && after[kept - 1].break_after {
                found.cut.extend(codes::canonical_prefix(&run[..kept]));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::orders::codes::new_order_code;

    fn code() -> String {
        new_order_code(&mut StdRng::seed_from_u64(17))
    }

    fn bare(code: &str) -> String {
        code.replace('-', "")
    }

    #[test]
    fn what_banks_do_to_a_memo_still_names_the_code() {
        let code = code();
        let bare = bare(&code);
        let spaced = code.replace('-', " ");
        for memo in [
            code.clone(),
            format!("{bare} chuyen tien"),
            bare.to_lowercase(),
            format!("MBVCB.123456.{bare} chuyen tien.CT tu 0123456789 NGUYEN VAN A toi 0011001234567"),
            format!("IBFT {spaced}"),
            format!("{bare}CHUYENTIEN"),
            format!("TKThe :0123, tai MB. {} -CTLNHIDO000001234", code.to_lowercase()),
            format!("Thanh toan don {code}. Cam on"),
        ] {
            assert_eq!(codes_in(&memo), MemoCodes { whole: vec![code.clone()], cut: vec![] }, "{memo:?}");
        }
    }

    #[test]
    fn the_letter_o_reads_as_zero() {
        let code = "NS-000-000-000";
        assert_eq!(codes_in("nsooo ooo ooo ck").whole, vec![code.to_owned()]);
    }

    #[test]
    fn a_code_cut_short_gives_its_beginnings_longest_first() {
        let code = code();
        let bare = bare(&code);
        let prefix = |kept: usize| codes::canonical_prefix(&bare.as_bytes()[2..2 + kept]).unwrap();
        for kept in MIN_KEPT_SYMBOLS..CODE_SYMBOLS {
            let memo = format!("MBVCB.123456.{}", &bare[..2 + kept]);
            assert_eq!(codes_in(&memo), MemoCodes { whole: vec![], cut: vec![prefix(kept)] }, "{memo:?}");
            assert!(code.starts_with(&prefix(kept)));
        }
        // Cut inside the spaced form: each break after six or more symbols may be where it was cut.
        let spaced = code.replace('-', " ");
        assert_eq!(codes_in(&spaced[..13]).cut, vec![prefix(8), prefix(6)]);
        // A cut code, then the bank's suffix.
        assert_eq!(codes_in(&format!("{} chuyen tien", &bare[..8])).cut, vec![prefix(6)]);
        assert_eq!(codes_in(&bare[..2 + MIN_KEPT_SYMBOLS - 1]), MemoCodes::default(), "too short to name anything");
    }

    #[test]
    fn a_mistyped_code_is_no_whole_code() {
        let code = code();
        let mut typo = bare(&code).into_bytes();
        typo[10] = if typo[10] == b'2' { b'3' } else { b'2' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(codes_in(&typo), MemoCodes::default(), "no break: nothing to go by");
        let dashed = format!("{}-{}-{}-{}", &typo[..2], &typo[2..5], &typo[5..8], &typo[8..]);
        assert_eq!(codes_in(&dashed).whole, Vec::<String>::new());
        // Its beginning is still there, to match with the exact amount.
        assert!(codes_in(&dashed).cut.iter().all(|prefix| code.starts_with(prefix.as_str())));
        // Glued to more letters and digits, a cut code cannot be told from a longer word.
        assert_eq!(codes_in(&format!("{}L", &bare(&code)[..8])), MemoCodes::default());
    }

    #[test]
    fn memos_without_a_code_name_nothing() {
        for memo in ["", "chuyen tien", "NS", "CHUYEN TIEN NHA NS", "Nguyễn Văn Á chuyển khoản", "0123456789"] {
            assert_eq!(codes_in(memo), MemoCodes::default(), "{memo:?}");
        }
    }

    #[test]
    fn every_whole_code_is_found_in_order() {
        let mut rng = StdRng::seed_from_u64(18);
        let (a, b) = (new_order_code(&mut rng), new_order_code(&mut rng));
        assert_eq!(codes_in(&format!("{a} va {}", bare(&b))).whole, vec![a, b]);
    }
}
