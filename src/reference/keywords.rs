//! Whole-word keywords over accent-free titles, the longest match winning: how a listing title finds its
//! category (`categories.csv`) and the typical weight of its pieces (`piece_weights.csv`).

use crate::domain::text::search_terms;

/// Keywords, each with a value, longest first (file order among equals).
pub struct Keywords<T> {
    entries: Vec<Keyword<T>>,
}

struct Keyword<T> {
    words: Vec<String>,
    /// Characters, spaces included: what "longest" compares.
    length: usize,
    value: T,
}

impl<T> Keywords<T> {
    /// Keywords as seeded (any case and accents); empty ones are skipped.
    pub fn new<'a>(keywords: impl IntoIterator<Item = (&'a str, T)>) -> Keywords<T> {
        let mut entries: Vec<Keyword<T>> = keywords
            .into_iter()
            .filter_map(|(keyword, value)| {
                let words = search_terms(keyword);
                let length = words.iter().map(String::len).sum::<usize>() + words.len().checked_sub(1)?;
                Some(Keyword { words, length, value })
            })
            .collect();
        entries.sort_by_key(|keyword| std::cmp::Reverse(keyword.length));
        Keywords { entries }
    }

    /// The value of the longest keyword that occurs in `title` as whole words, among those `wanted`; on equal
    /// length the one found earlier in the title, then the one listed first.
    pub fn best(&self, title: &str, wanted: impl Fn(&T) -> bool) -> Option<&T> {
        let words = search_terms(title);
        let mut best: Option<(usize, usize, &T)> = None; // (length, position, value)
        for keyword in self.entries.iter().filter(|keyword| wanted(&keyword.value)) {
            if best.is_some_and(|(length, _, _)| keyword.length < length) {
                break;
            }
            let Some(position) = words.windows(keyword.words.len()).position(|window| window == keyword.words) else {
                continue;
            };
            if best.is_none_or(|(length, at, _)| keyword.length > length || position < at) {
                best = Some((keyword.length, position, &keyword.value));
            }
        }
        best.map(|(_, _, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_whole_word_keyword_wins_then_the_earliest() {
        let keywords = Keywords::new([("gà", 1), ("trứng gà", 2), ("bắp", 3), ("bắp cải", 4), ("", 5), ("cải", 6)]);
        let best = |title: &str| keywords.best(title, |_| true).copied();
        assert_eq!(best("Trứng gà ta"), Some(2));
        assert_eq!(best("GA TA"), Some(1));
        assert_eq!(best("Bắp cải tím"), Some(4));
        assert_eq!(best("cải bắp"), Some(6));
        assert_eq!(best("gàn dở"), None);
        assert_eq!(best(""), None);
        assert_eq!(keywords.best("Trứng gà ta", |value| *value != 2).copied(), Some(1));
    }
}
