//! `?limit=&cursor=` paging with opaque cursors (API.md: default 20, max 100).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{AppError, Text};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// The query of a paged list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of an ordered list, addressed by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// The page a [`PageQuery`] asks for.
    pub fn of(query: &PageQuery) -> Result<Page, AppError> {
        Page::from_query(query.limit, query.cursor.as_deref())
    }

    pub fn from_query(limit: Option<u32>, cursor: Option<&str>) -> Result<Page, AppError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid_field(
                "limit",
                "limit_out_of_range",
                Text::new(format!("`limit` phải từ 1 đến {MAX_LIMIT}."), format!("`limit` must be 1 to {MAX_LIMIT}.")),
            ));
        }
        let offset = match cursor.filter(|c| !c.is_empty()) {
            None => 0,
            Some(cursor) => decode(cursor).ok_or_else(|| {
                AppError::invalid_field(
                    "cursor",
                    "invalid_cursor",
                    Text::new(
                        "`cursor` không hợp lệ; hãy dùng `next_cursor` của trang trước.",
                        "Invalid `cursor`; use the previous page's `next_cursor`.",
                    ),
                )
            })?,
        };
        Ok(Page { limit: i64::from(limit), offset })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and names the cursor of the next one, if any.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        (rows, Some(URL_SAFE_NO_PAD.encode(format!("o{}", self.offset + self.limit))))
    }
}

fn decode(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let offset: i64 = std::str::from_utf8(&bytes).ok()?.strip_prefix('o')?.parse().ok()?;
    (offset >= 0).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_chain_through_cursors() {
        let first = Page::from_query(Some(2), None).expect("page");
        let (rows, next) = first.finish(vec![1, 2, 3]);
        assert_eq!(rows, vec![1, 2]);
        let second = Page::from_query(Some(2), next.as_deref()).expect("page");
        assert_eq!(second, Page { limit: 2, offset: 2 });
        assert_eq!(second.finish(vec![3]), (vec![3], None));
    }

    #[test]
    fn bad_limits_and_cursors_are_422() {
        assert_eq!(Page::from_query(Some(0), None).expect_err("0").errors[0].code, "limit_out_of_range");
        assert_eq!(Page::from_query(Some(101), None).expect_err("101").errors[0].code, "limit_out_of_range");
        assert_eq!(Page::from_query(None, Some("zzz")).expect_err("cursor").errors[0].code, "invalid_cursor");
        assert_eq!(
            Page::from_query(None, Some(&URL_SAFE_NO_PAD.encode("o-5"))).expect_err("neg").errors[0].code,
            "invalid_cursor"
        );
    }
}
