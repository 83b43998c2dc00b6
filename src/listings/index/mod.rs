//! The catalogue in memory: the listings buyers can see (listing pages, storefronts), the farmers, and a
//! full-text index of those in stock (`search`). The database stays the source of truth: the index is built
//! from it at start and follows its change feed (`catalogue_changes`, written by triggers in the transaction
//! of every change), read every 250 ms by each instance, and before a read as soon as this instance has
//! committed a write since (`Db::commits`), so a person sees at once what they just changed. With Redis, a
//! read also catches up when the catalogue's version (bumped after every listing change, for the page
//! cache) moved: every instance then shows a change as soon as it is answered, as the database did.

mod kept;
mod search;
pub mod store;

pub use kept::Kept;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use kept::Names;
use search::{Doc, Search};
use store::{Change, Indexed, Subject};

use super::catalogue::VERSION_KEY;
use super::store::{After, CatalogueFilter, ListingRow, PublicFarmer, Sort};
use crate::allocator;
use crate::cache::Cache;
use crate::db::Db;
use crate::domain::status::ListingStatus;
use crate::error::AppError;

/// How often every instance reads the change feed: another instance's change shows within this (and the
/// time to read it).
const FOLLOW_EVERY: Duration = Duration::from_millis(250);
/// Rows read per query while building.
const BUILD_CHUNK: i64 = 5_000;
/// Ids per `IN (…)` list (SQLite allows some 32,000 parameters).
const IDS_PER_QUERY: usize = 1_000;
/// How long an applied change is remembered, so that re-reading it (PostgreSQL's window of late commits,
/// 10 s) applies nothing twice.
const REMEMBER_APPLIED: Duration = Duration::from_secs(30);

/// The in-memory catalogue; cheap to clone.
#[derive(Clone)]
pub struct CatalogueIndex {
    shared: Arc<Shared>,
}

struct Shared {
    db: Db,
    cache: Cache,
    memory: RwLock<Memory>,
    search: Search,
    follow: tokio::sync::Mutex<Follow>,
    /// `Db::commits` as of the last catch-up that started after it.
    synced: AtomicU64,
    /// Reads of the change feed started so far.
    reads: AtomicU64,
    /// The catalogue's version in the shared cache when last caught up with.
    version: AtomicU64,
}

#[derive(Default)]
struct Memory {
    /// Active listings, sold out included (boxed: the table stays small when it grows).
    listings: HashMap<i64, Box<Kept>>,
    names: Names,
    /// Each farmer's active listings.
    by_farmer: HashMap<i64, BTreeSet<i64>>,
    farmers: HashMap<i64, Arc<PublicFarmer>>,
    /// The catalogue (visible listings) by id and by (price, id): pages without words walk these in order
    /// and stop when full, instead of sorting every match as a search does.
    by_id: BTreeSet<i64>,
    by_price: BTreeSet<(i64, i64)>,
}

struct Follow {
    /// The highest change number applied.
    high: i64,
    /// Changes applied lately: their number, and when.
    applied: HashMap<Subject, (i64, Instant)>,
}

/// In the catalogue (and searched): on sale with stock.
fn visible(status: ListingStatus, quantity: i64) -> bool {
    status == ListingStatus::Active && quantity > 0
}

/// Whether the searched fields differ (then the listing's document is replaced).
fn searched_differently(old: &Kept, new: &ListingRow) -> bool {
    visible(old.status, old.quantity) != visible(new.status, new.quantity)
        || old.title() != new.title
        || *old.category_code != new.category_code
        || old.province_code != new.province_code
        || old.ward_code != new.ward_code
        || old.price_vnd != new.price_vnd
}

fn lock_failed() -> AppError {
    AppError::internal(anyhow::anyhow!("catalogue index lock poisoned"))
}

impl CatalogueIndex {
    /// Builds the index from the database (logging how long it took) and starts following its changes.
    pub async fn start(db: &Db, cache: &Cache) -> Result<CatalogueIndex, AppError> {
        let started = Instant::now();
        let index = CatalogueIndex {
            shared: Arc::new(Shared {
                db: db.clone(),
                cache: cache.clone(),
                memory: RwLock::new(Memory::default()),
                search: Search::new()?,
                follow: tokio::sync::Mutex::new(Follow { high: 0, applied: HashMap::new() }),
                synced: AtomicU64::new(0),
                reads: AtomicU64::new(0),
                version: AtomicU64::new(0),
            }),
        };
        let (listings, farmers) = index.build().await?;
        allocator::give_back_freed_memory();
        tracing::info!(listings, farmers, seconds = started.elapsed().as_secs_f64(), "catalogue index built");
        let follower = Arc::downgrade(&index.shared);
        tokio::spawn(follow(follower));
        Ok(index)
    }

    /// Everything, read in chunks: the change number first, so a change made meanwhile is read again after.
    async fn build(&self) -> Result<(usize, usize), AppError> {
        let shared = &self.shared;
        let commits = shared.db.commits();
        let high = shared.db.read(store::last_change).await?;
        let farmers = shared.db.read(|conn| store::public_farmers(conn, None)).await?;
        let farmer_count = farmers.len();
        self.apply(Vec::new(), farmers, Vec::new()).await?;
        let (mut after, mut count) = (0, 0);
        loop {
            let rows = shared.db.read(move |conn| store::active_listings(conn, after, BUILD_CHUNK)).await?;
            let Some(last) = rows.last() else { break };
            after = last.0.id;
            count += rows.len();
            self.apply(rows, Vec::new(), Vec::new()).await?;
        }
        shared.follow.lock().await.high = high;
        shared.synced.fetch_max(commits, Ordering::AcqRel);
        Ok((count, farmer_count))
    }

    /// Catches up with what this instance wrote since the last read and, with Redis, with what any instance
    /// changed (nothing to do, mostly).
    pub async fn fresh(&self) -> Result<(), AppError> {
        let shared = &self.shared;
        if shared.cache.is_shared() {
            let version = shared.cache.count(VERSION_KEY).await.count;
            if version != shared.version.load(Ordering::Acquire) {
                self.catch_up().await?;
                shared.version.store(version, Ordering::Release);
                return Ok(());
            }
        }
        if shared.synced.load(Ordering::Acquire) >= shared.db.commits() {
            return Ok(());
        }
        self.catch_up().await
    }

    /// Reads the change feed and applies what changed. Callers that queue while a read runs need one that
    /// started after they asked: the first of them to get the lock reads for all.
    async fn catch_up(&self) -> Result<(), AppError> {
        let shared = &self.shared;
        let commits = shared.db.commits();
        let asked = shared.reads.load(Ordering::Acquire);
        let mut follow = shared.follow.lock().await;
        if shared.reads.load(Ordering::Acquire) > asked {
            return Ok(());
        }
        shared.reads.fetch_add(1, Ordering::AcqRel);
        let above = follow.high;
        let changes = shared.db.read(move |conn| store::changes_since(conn, above)).await?;
        let now = Instant::now();
        follow.applied.retain(|_, (_, at)| now.duration_since(*at) < REMEMBER_APPLIED);
        let fresh: Vec<Change> = changes
            .into_iter()
            .filter(|change| follow.applied.get(&change.subject).is_none_or(|(seq, _)| change.seq > *seq))
            .collect();
        if !fresh.is_empty() {
            let (mut listing_ids, mut farmer_ids) = (Vec::new(), Vec::new());
            for change in &fresh {
                match change.subject {
                    Subject::Listing(id) => listing_ids.push(id),
                    Subject::Farmer(id) => farmer_ids.push(id),
                }
            }
            let (rows, farmers) = shared
                .db
                .read(move |conn| {
                    let mut rows = Vec::new();
                    for ids in listing_ids.chunks(IDS_PER_QUERY) {
                        rows.extend(store::listings_by_id(conn, ids)?);
                    }
                    let mut farmers = Vec::new();
                    for ids in farmer_ids.chunks(IDS_PER_QUERY) {
                        farmers.extend(store::public_farmers(conn, Some(ids))?);
                        rows.extend(store::listings_of_farmers(conn, ids)?);
                    }
                    Ok((rows, farmers))
                })
                .await?;
            let gone = fresh.iter().map(|change| change.subject).collect();
            self.apply(rows, farmers, gone).await?;
            for change in &fresh {
                follow.high = follow.high.max(change.seq);
                follow.applied.insert(change.subject, (change.seq, now));
            }
        }
        shared.synced.fetch_max(commits, Ordering::AcqRel);
        Ok(())
    }

    /// Puts rows and farmers in memory and the searched ones in the full-text index; `subjects` changed, so
    /// those among them absent from `rows` and `farmers` (deleted, no longer active or farmers) leave.
    async fn apply(
        &self,
        rows: Vec<Indexed>,
        farmers: Vec<PublicFarmer>,
        subjects: Vec<Subject>,
    ) -> Result<(), AppError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || shared.apply(rows, farmers, &subjects)).await.map_err(AppError::internal)?
    }

    /// One page of the catalogue: up to `filter.limit` listings, in the filter's order, each as `view` shows
    /// it (read straight from the compact row: a card needs a few of its fields).
    pub async fn page<T>(&self, filter: &CatalogueFilter, view: impl Fn(&Kept) -> T) -> Result<Vec<T>, AppError> {
        self.fresh().await?;
        // The whole catalogue in order walks the sorted sets and stops when the page is full; words or a filter
        // (which a walk may have to pass thousands of listings to fill) go to the index.
        let filtered = filter.category.is_some()
            || filter.province.is_some()
            || filter.ward.is_some()
            || filter.min_price.is_some()
            || filter.max_price.is_some();
        if filter.terms.is_empty() && !filtered {
            return Ok(self.shared.memory.read().map_err(|_| lock_failed())?.browse(filter, view));
        }
        let ids = self.shared.search.page(filter)?;
        let memory = self.shared.memory.read().map_err(|_| lock_failed())?;
        // A listing that left the catalogue between the two reads is left out.
        Ok(ids
            .iter()
            .filter_map(|id| memory.listings.get(id))
            .filter(|kept| visible(kept.status, kept.quantity))
            .map(|kept| view(kept))
            .collect())
    }

    /// An active listing (sold out included).
    pub async fn listing(&self, id: i64) -> Result<Option<ListingRow>, AppError> {
        self.fresh().await?;
        Ok(self.shared.memory.read().map_err(|_| lock_failed())?.listings.get(&id).map(|kept| kept.row()))
    }

    /// A farmer and up to `limit` of their listings on sale, newest first; `None` when there is no such farmer.
    pub async fn storefront(
        &self,
        farmer_id: i64,
        limit: usize,
    ) -> Result<Option<(Arc<PublicFarmer>, Vec<ListingRow>)>, AppError> {
        self.fresh().await?;
        let memory = self.shared.memory.read().map_err(|_| lock_failed())?;
        let Some(farmer) = memory.farmers.get(&farmer_id).cloned() else { return Ok(None) };
        let rows = memory
            .by_farmer
            .get(&farmer_id)
            .into_iter()
            .flat_map(|ids| ids.iter().rev())
            .filter_map(|id| memory.listings.get(id))
            .filter(|kept| visible(kept.status, kept.quantity))
            .take(limit)
            .map(|kept| kept.row())
            .collect();
        Ok(Some((farmer, rows)))
    }
}

impl Shared {
    fn apply(&self, rows: Vec<Indexed>, farmers: Vec<PublicFarmer>, subjects: &[Subject]) -> Result<(), AppError> {
        let mut memory = self.memory.write().map_err(|_| lock_failed())?;
        let (mut remove, mut put) = (Vec::new(), Vec::new());
        let present: HashSet<i64> = rows.iter().map(|(row, _)| row.id).collect();
        for (row, title_search) in rows {
            let old = memory.take(row.id);
            let was_searched = old.as_ref().is_some_and(|old| visible(old.status, old.quantity));
            let shown = visible(row.status, row.quantity);
            if shown {
                // A change of stock alone leaves the full-text index as it is.
                if old.is_none_or(|old| searched_differently(&old, &row)) {
                    put.push(Doc::of(&row, title_search));
                }
                memory.by_id.insert(row.id);
                memory.by_price.insert((row.price_vnd, row.id));
            } else if was_searched {
                remove.push(row.id);
            }
            if row.status == ListingStatus::Active {
                memory.by_farmer.entry(row.farmer_id).or_default().insert(row.id);
                let kept = Kept::keep(row, &mut memory.names);
                memory.listings.insert(kept.id, Box::new(kept));
            }
        }
        for subject in subjects {
            match *subject {
                Subject::Listing(id) if !present.contains(&id) => {
                    if memory.take(id).is_some_and(|old| visible(old.status, old.quantity)) {
                        remove.push(id);
                    }
                }
                Subject::Listing(_) => {}
                Subject::Farmer(id) => {
                    memory.farmers.remove(&id);
                }
            }
        }
        if !farmers.is_empty() {
            // A renamed farmer's old name, say.
            memory.names.forget_unused();
        }
        for farmer in farmers {
            memory.farmers.insert(farmer.0, Arc::new(farmer));
        }
        // Searches read memory while the full-text index takes the change (a page leaves out what left).
        drop(memory);
        self.search.update(&remove, &put)
    }
}

impl Memory {
    /// A page of the whole catalogue (no words, no filter): the listings in the page's order from its cursor
    /// on, until the page is full.
    fn browse<T>(&self, filter: &CatalogueFilter, view: impl Fn(&Kept) -> T) -> Vec<T> {
        let limit = usize::try_from(filter.limit).unwrap_or(0);
        let page = |ids: &mut dyn Iterator<Item = i64>| -> Vec<T> {
            ids.filter_map(|id| self.listings.get(&id)).take(limit).map(|kept| view(kept)).collect()
        };
        match (filter.sort, filter.after) {
            (Sort::Relevance | Sort::Newest, Some(After::Id(id))) => page(&mut self.by_id.range(..id).rev().copied()),
            (Sort::Relevance | Sort::Newest, _) => page(&mut self.by_id.iter().rev().copied()),
            (Sort::PriceAsc, Some(After::PriceId(price, id))) => {
                let from = (Bound::Excluded((price, id)), Bound::Unbounded);
                page(&mut self.by_price.range(from).map(|(_, id)| *id))
            }
            (Sort::PriceAsc, _) => page(&mut self.by_price.iter().map(|(_, id)| *id)),
            (Sort::PriceDesc, Some(After::PriceId(price, id))) => {
                page(&mut self.by_price.range(..(price, id)).rev().map(|(_, id)| *id))
            }
            (Sort::PriceDesc, _) => page(&mut self.by_price.iter().rev().map(|(_, id)| *id)),
        }
    }

    /// Takes a listing out of memory (not out of the full-text index), returning what was there.
    fn take(&mut self, id: i64) -> Option<Box<Kept>> {
        let old = self.listings.remove(&id)?;
        self.by_id.remove(&id);
        self.by_price.remove(&(old.price_vnd, id));
        if let Some(ids) = self.by_farmer.get_mut(&old.farmer_id) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_farmer.remove(&old.farmer_id);
            }
        }
        Some(old)
    }
}

/// Reads the change feed every [`FOLLOW_EVERY`] until the index is dropped.
async fn follow(shared: Weak<Shared>) {
    let mut ticks = tokio::time::interval(FOLLOW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(shared) = shared.upgrade() else { return };
        if let Err(error) = (CatalogueIndex { shared }).catch_up().await {
            tracing::warn!(error = %error, "catalogue index: reading changes failed; retrying");
        }
    }
}
