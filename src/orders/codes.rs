//! Order codes that buyers read aloud over the phone and type into bank transfers: `NS-7KQ-4M9-XHC`.
//!
//! Eight random symbols and one check symbol, in groups of three, the way Vietnamese read out phone numbers.
//! The alphabet is the digits 2–9 and the letters without I and L (look like 1), O (like 0) and U (like V),
//! which makes 30, plus `0`: with `O` read as `0` it cannot be mistaken for anything, and 31 symbols, a
//! prime, let the check be a weighted sum modulo 31. With weights 9, 8, …, 1 a wrong symbol changes the sum
//! by `w·d` and a swap of neighbours by `±d`, for `d` the difference of the two symbols (1..=30): never a
//! multiple of 31, so both are always caught (so are swaps at any distance, as weights differ by at most 8).
//!
//! 31⁸ ≈ 8.5·10¹¹ codes: collisions are rare but possible, so the caller still checks the code is free.

use rand::Rng;

/// The 31 symbols, in value order.
const ALPHABET: &[u8; 31] = b"023456789ABCDEFGHJKMNPQRSTVWXYZ";
const MODULUS: u32 = 31;
const RANDOM_SYMBOLS: usize = 8;
const SYMBOLS: usize = RANDOM_SYMBOLS + 1;
const PREFIX: &str = "NS";

/// A fresh code in canonical form, e.g. `NS-7KQ-4M9-XHC`.
pub fn new_order_code(rng: &mut impl Rng) -> String {
    let mut values = [0u8; SYMBOLS];
    for value in &mut values[..RANDOM_SYMBOLS] {
        // 31 fits in u8; `random_range` is unbiased.
        *value = rng.random_range(0..ALPHABET.len() as u8);
    }
    values[RANDOM_SYMBOLS] = check_value(&values[..RANDOM_SYMBOLS]);
    canonical(&values)
}

/// The canonical code for what someone typed or read out, or `None` unless the check symbol verifies.
///
/// Case, spaces, dashes (also typographic ones), dots and underscores do not matter, nor does the `NS`
/// prefix (banks often strip punctuation from transfer messages). `O` is read as `0`; `I`, `L`, `1` and `U`
/// are rejected rather than guessed, since none of them is close to a single symbol of the alphabet.
pub fn normalise_order_code(input: &str) -> Option<String> {
    // Room for the prefix and the symbols; anything longer is not a code.
    let mut symbols = [0u8; SYMBOLS + PREFIX.len()];
    let mut len = 0;
    for c in input.chars() {
        if is_separator(c) {
            continue;
        }
        let c = match c.to_ascii_uppercase() {
            'O' => b'0',
            c if c.is_ascii() => c as u8,
            _ => return None,
        };
        *symbols.get_mut(len)? = c;
        len += 1;
    }
    let symbols = match &symbols[..len] {
        [b'N', b'S', rest @ ..] if rest.len() == SYMBOLS => rest,
        all if all.len() == SYMBOLS => all,
        _ => return None,
    };
    let mut values = [0u8; SYMBOLS];
    for (value, symbol) in values.iter_mut().zip(symbols) {
        *value = value_of(*symbol)?;
    }
    weighted_sum(&values).is_multiple_of(MODULUS).then(|| canonical(&values))
}

/// How many symbols a code has after its `NS` prefix (the last is the check symbol).
pub const CODE_SYMBOLS: usize = SYMBOLS;

/// A character as the code symbol it is (uppercase; `O` read as `0`), or `None` when it is not one.
pub fn symbol(c: u8) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        b'O' => b'0',
        c => c,
    };
    value_of(c).map(|_| c)
}

/// The canonical beginning of a code cut short after some of its symbols (as [`symbol`] gives them):
/// `NS-7KQ-4M` for `7KQ4M`, for a `LIKE` over stored codes. `None` if any is not a symbol or they are a whole code.
pub fn canonical_prefix(symbols: &[u8]) -> Option<String> {
    if symbols.len() >= SYMBOLS {
        return None;
    }
    let mut prefix = String::from(PREFIX);
    for (i, &c) in symbols.iter().enumerate() {
        value_of(c)?;
        if i % 3 == 0 {
            prefix.push('-');
        }
        prefix.push(char::from(c));
    }
    Some(prefix)
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '_' | '.' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

fn value_of(symbol: u8) -> Option<u8> {
    ALPHABET.iter().position(|&s| s == symbol).and_then(|i| u8::try_from(i).ok())
}

/// Σ wᵢ·vᵢ with weights 9, 8, …, 1 from the first symbol (a code's last symbol, the check, weighs 1).
fn weighted_sum(values: &[u8]) -> u32 {
    values.iter().enumerate().map(|(i, &v)| (SYMBOLS - i) as u32 * u32::from(v)).sum()
}

/// The check value that makes the whole code's weighted sum 0 mod 31.
fn check_value(random: &[u8]) -> u8 {
    let rest = weighted_sum(random) % MODULUS;
    // Below 31, so it fits.
    ((MODULUS - rest) % MODULUS) as u8
}

fn canonical(values: &[u8; SYMBOLS]) -> String {
    let mut code = String::with_capacity(PREFIX.len() + SYMBOLS + 3);
    code.push_str(PREFIX);
    for (i, &v) in values.iter().enumerate() {
        if i % 3 == 0 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[usize::from(v)]));
    }
    code
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn symbol_positions() -> [usize; SYMBOLS] {
        // Byte offsets of the nine symbols in `NS-XXX-XXX-XXX`.
        [3, 4, 5, 7, 8, 9, 11, 12, 13]
    }

    #[test]
    fn alphabet_is_31_distinct_unambiguous_symbols() {
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 31);
        for banned in b"1ILOU" {
            assert!(!ALPHABET.contains(banned), "{}", char::from(*banned));
        }
    }

    #[test]
    fn generated_codes_have_the_canonical_shape_and_verify() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            let code = new_order_code(&mut rng);
            assert_eq!(code.len(), 14, "{code}");
            assert!(code.starts_with("NS-"));
            assert_eq!(&code[6..7], "-");
            assert_eq!(&code[10..11], "-");
            assert_eq!(normalise_order_code(&code).as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn every_single_substitution_and_adjacent_swap_of_random_codes_is_caught() {
        let mut rng = StdRng::seed_from_u64(2);
        let positions = symbol_positions();
        for _ in 0..3000 {
            let code = new_order_code(&mut rng);
            let bytes = code.as_bytes();
            for &at in &positions {
                for &other in ALPHABET.iter().filter(|&&s| s != bytes[at]) {
                    let mut changed = bytes.to_vec();
                    changed[at] = other;
                    let changed = String::from_utf8(changed).unwrap();
                    assert_eq!(normalise_order_code(&changed), None, "{code} -> {changed}");
                }
            }
            for pair in positions.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if bytes[a] == bytes[b] {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(a, b);
                let swapped = String::from_utf8(swapped).unwrap();
                assert_eq!(normalise_order_code(&swapped), None, "{code} -> {swapped}");
            }
        }
    }

    /// The check is linear, so whether a change is caught depends only on where it is and which two
    /// symbols are involved: checking every such case once covers every code.
    #[test]
    fn the_check_catches_every_substitution_and_adjacent_swap_for_any_code() {
        for at in 0..SYMBOLS {
            let weight = (SYMBOLS - at) as u32;
            for a in 0..MODULUS {
                for b in (0..MODULUS).filter(|&b| b != a) {
                    assert_ne!((weight * a + MODULUS * MODULUS - weight * b) % MODULUS, 0);
                    if at + 1 < SYMBOLS {
                        // a at `at` and b next to it, then swapped.
                        let before = weight * a + (weight - 1) * b;
                        let after = weight * b + (weight - 1) * a;
                        assert_ne!((before + MODULUS * MODULUS - after) % MODULUS, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn sloppy_input_is_accepted() {
        let code = new_order_code(&mut StdRng::seed_from_u64(3));
        let bare: String = code.chars().filter(|&c| c != '-').collect();
        for input in [
            code.clone(),
            code.to_lowercase(),
            bare.clone(),
            bare[2..].to_owned(),
            bare[2..].to_lowercase(),
            format!("  {}  ", code.replace('-', " ")),
            code.replace('-', "--"),
            code.replace('-', "–"),
            format!("ns.{}", &bare[2..]),
        ] {
            assert_eq!(normalise_order_code(&input).as_deref(), Some(code.as_str()), "{input:?}");
        }
    }

    #[test]
    fn letter_o_is_read_as_zero() {
        // Find a code with a zero in it, then spell the zero as O and o.
        let mut rng = StdRng::seed_from_u64(4);
        let code = std::iter::repeat_with(|| new_order_code(&mut rng)).find(|c| c[3..].contains('0')).unwrap();
        assert_eq!(normalise_order_code(&code.replace('0', "O")).as_deref(), Some(code.as_str()));
        assert_eq!(normalise_order_code(&code.replace('0', "o")).as_deref(), Some(code.as_str()));
    }

    #[test]
    fn look_alikes_without_a_symbol_and_junk_are_rejected() {
        let code = new_order_code(&mut StdRng::seed_from_u64(5));
        for bad in ['1', 'I', 'i', 'L', 'l', 'U', 'u', 'Đ', '*'] {
            let mut changed: Vec<char> = code.chars().collect();
            changed[3] = bad;
            let changed: String = changed.into_iter().collect();
            assert_eq!(normalise_order_code(&changed), None, "{changed}");
        }
        for input in ["", "NS", "NS-", "----", &code[..13], &format!("{code}2"), &format!("X{code}")] {
            assert_eq!(normalise_order_code(input), None, "{input:?}");
        }
    }

    #[test]
    fn a_cut_short_code_keeps_its_groups() {
        assert_eq!(canonical_prefix(b"7KQ4M9").as_deref(), Some("NS-7KQ-4M9"));
        assert_eq!(canonical_prefix(b"7KQ4M9XH").as_deref(), Some("NS-7KQ-4M9-XH"));
        assert_eq!(canonical_prefix(b"7KQ4M9XHC"), None, "a whole code is not a prefix");
        assert_eq!(canonical_prefix(b"7KQ4L9"), None);
        assert_eq!([b'o', b'k', b'1'].map(symbol), [Some(b'0'), Some(b'K'), None]);
    }

    #[test]
    fn all_zero_code_verifies() {
        // The check of eight zeros is zero: a code can be all one symbol.
        assert_eq!(normalise_order_code("000000000").as_deref(), Some("NS-000-000-000"));
        assert_eq!(normalise_order_code("ooo ooo ooo").as_deref(), Some("NS-000-000-000"));
    }

    proptest! {
        #[test]
        fn round_trip(seed in any::<u64>()) {
            let code = new_order_code(&mut StdRng::seed_from_u64(seed));
            prop_assert_eq!(normalise_order_code(&code), Some(code.clone()));
            let sloppy: String = code.chars().filter(|&c| c != '-').collect::<String>().to_lowercase();
            prop_assert_eq!(normalise_order_code(&sloppy), Some(code));
        }

        #[test]
        fn any_one_symbol_changed_is_rejected(seed in any::<u64>(), at in 0..SYMBOLS, by in 1..31usize) {
            let code = new_order_code(&mut StdRng::seed_from_u64(seed));
            let at = symbol_positions()[at];
            let mut changed = code.clone().into_bytes();
            let old = ALPHABET.iter().position(|&s| s == changed[at]).unwrap();
            changed[at] = ALPHABET[(old + by) % ALPHABET.len()];
            let changed = String::from_utf8(changed).unwrap();
            prop_assert_eq!(normalise_order_code(&changed), None);
        }

        #[test]
        fn any_input_is_rejected_or_canonical(input in "\\PC{0,20}") {
            if let Some(code) = normalise_order_code(&input) {
                prop_assert_eq!(normalise_order_code(&code), Some(code));
            }
        }
    }
}
