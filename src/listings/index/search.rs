//! The full-text part of the index (tantivy, in RAM): one document per listing in the catalogue (active, in
//! stock), holding only what is searched, filtered and sorted on; what a page shows comes from the rows kept
//! beside it. A title is indexed as every start of each of its words ("xoai" as x, xo, xoa, xoai), so a
//! term matches the start of a word with one exact look-up, as `LIKE '% term%'` does over `title_search`.

use std::ops::Bound;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use super::super::store::{After, CatalogueFilter, ListingRow, Sort};
use crate::error::AppError;

/// The writer's memory before it writes a segment: tantivy's minimum, since every update commits at once
/// (a third of it is a table the writer keeps filled while idle).
const WRITER_MEMORY: usize = 15_000_000;

pub struct Search {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    category: Field,
    province: Field,
    ward: Field,
    price: Field,
}

/// What the index holds of a listing.
pub struct Doc {
    id: i64,
    /// `title_search` as stored: words between spaces.
    title_search: String,
    category: String,
    province: i32,
    ward: i32,
    price: i64,
}

impl Doc {
    pub fn of(row: &ListingRow, title_search: String) -> Doc {
        Doc {
            id: row.id,
            title_search,
            category: row.category_code.clone(),
            province: row.province_code,
            ward: row.ward_code,
            price: row.price_vnd,
        }
    }
}

fn failed(error: tantivy::TantivyError) -> AppError {
    AppError::internal(anyhow::anyhow!("search index: {error}"))
}

/// Every start of every word: "xoai cat" gives "x xo xoa xoai c ca cat".
fn word_starts(title_search: &str) -> String {
    let mut starts = String::new();
    for word in title_search.split_whitespace() {
        for (end, c) in word.char_indices() {
            starts.push_str(&word[..end + c.len_utf8()]);
            starts.push(' ');
        }
    }
    starts
}

impl Search {
    pub fn new() -> Result<Search, AppError> {
        let mut schema = Schema::builder();
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(IndexRecordOption::Basic),
        );
        let fields = Fields {
            id: schema.add_i64_field("id", INDEXED | FAST),
            title: schema.add_text_field("title", words),
            category: schema.add_text_field("category", STRING),
            province: schema.add_i64_field("province", INDEXED),
            ward: schema.add_i64_field("ward", INDEXED),
            price: schema.add_i64_field("price", INDEXED | FAST),
        };
        let index = Index::create_in_ram(schema.build());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).map_err(failed)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(failed)?;
        Ok(Search { writer: Mutex::new(writer), reader, fields })
    }

    /// Replaces listings' documents: `remove` leaves the catalogue, `put` enters it or changed what is
    /// searched; then makes it all visible to searches at once.
    pub fn update(&self, remove: &[i64], put: &[Doc]) -> Result<(), AppError> {
        if remove.is_empty() && put.is_empty() {
            return Ok(());
        }
        let f = self.fields;
        let mut writer =
            self.writer.lock().map_err(|_| AppError::internal(anyhow::anyhow!("index writer poisoned")))?;
        for id in remove.iter().chain(put.iter().map(|doc| &doc.id)) {
            writer.delete_term(Term::from_field_i64(f.id, *id));
        }
        for put in put {
            let mut doc = TantivyDocument::default();
            doc.add_i64(f.id, put.id);
            doc.add_text(f.title, word_starts(&put.title_search));
            doc.add_text(f.category, &put.category);
            doc.add_i64(f.province, i64::from(put.province));
            doc.add_i64(f.ward, i64::from(put.ward));
            doc.add_i64(f.price, put.price);
            writer.add_document(doc).map_err(failed)?;
        }
        writer.commit().map_err(failed)?;
        self.reader.reload().map_err(failed)
    }

    /// The ids of one page (`filter.limit` of them at most), in the filter's order.
    pub fn page(&self, filter: &CatalogueFilter) -> Result<Vec<i64>, AppError> {
        let query = self.query(filter);
        let searcher = self.reader.searcher();
        let limit = usize::try_from(filter.limit).unwrap_or(1).max(1);
        let ids = match filter.sort {
            Sort::Relevance | Sort::Newest => {
                let top = TopDocs::with_limit(limit).order_by_fast_field::<i64>("id", Order::Desc);
                searcher.search(&query, &top).map_err(failed)?.into_iter().filter_map(|(id, _)| id).collect()
            }
            Sort::PriceAsc | Sort::PriceDesc => {
                let order = if filter.sort == Sort::PriceAsc { Order::Asc } else { Order::Desc };
                let top = TopDocs::with_limit(limit).order_by((
                    (SortByStaticFastValue::<i64>::for_field("price"), order),
                    (SortByStaticFastValue::<i64>::for_field("id"), order),
                ));
                searcher.search(&query, &top).map_err(failed)?.into_iter().filter_map(|((_, id), _)| id).collect()
            }
        };
        Ok(ids)
    }

    fn query(&self, filter: &CatalogueFilter) -> Box<dyn Query> {
        let f = self.fields;
        let term = |term: Term| -> Box<dyn Query> { Box::new(TermQuery::new(term, IndexRecordOption::Basic)) };
        let range = |field: Field, low: Bound<i64>, high: Bound<i64>| -> Box<dyn Query> {
            let at = |bound: Bound<i64>| bound.map(|value| Term::from_field_i64(field, value));
            Box::new(RangeQuery::new(at(low), at(high)))
        };
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        must.extend(filter.terms.iter().map(|word| term(Term::from_field_text(f.title, word))));
        if let Some(category) = &filter.category {
            must.push(term(Term::from_field_text(f.category, category)));
        }
        if let Some(province) = filter.province {
            must.push(term(Term::from_field_i64(f.province, i64::from(province))));
        }
        if let Some(ward) = filter.ward {
            must.push(term(Term::from_field_i64(f.ward, i64::from(ward))));
        }
        if filter.min_price.is_some() || filter.max_price.is_some() {
            let low = filter.min_price.map_or(Bound::Unbounded, Bound::Included);
            let high = filter.max_price.map_or(Bound::Unbounded, Bound::Included);
            must.push(range(f.price, low, high));
        }
        match (filter.sort, filter.after) {
            (Sort::Relevance | Sort::Newest, Some(After::Id(id))) => {
                must.push(range(f.id, Bound::Unbounded, Bound::Excluded(id)));
            }
            (Sort::PriceAsc | Sort::PriceDesc, Some(After::PriceId(price, id))) => {
                // Past (price, id) in the page's order: a price beyond, or the same price and an id beyond.
                let beyond = |value: i64| {
                    if filter.sort == Sort::PriceAsc {
                        (Bound::Excluded(value), Bound::Unbounded)
                    } else {
                        (Bound::Unbounded, Bound::Excluded(value))
                    }
                };
                let (low, high) = beyond(price);
                let (id_low, id_high) = beyond(id);
                let same_price = BooleanQuery::intersection(vec![
                    range(f.price, Bound::Included(price), Bound::Included(price)),
                    range(f.id, id_low, id_high),
                ]);
                must.push(Box::new(BooleanQuery::union(vec![range(f.price, low, high), Box::new(same_price)])));
            }
            // A cursor of another sort is refused when it is read.
            _ => {}
        }
        if must.is_empty() {
            return Box::new(AllQuery);
        }
        Box::new(BooleanQuery::new(must.into_iter().map(|query| (Occur::Must, query)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_start_of_every_word_is_a_token() {
        assert_eq!(word_starts(" xoai cat "), "x xo xoa xoai c ca cat ");
        assert_eq!(word_starts(""), "");
    }
}
