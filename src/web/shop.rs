//! Finding produce: the home page (search without accents, categories, provinces), a listing, a farmer's
//! storefront. The catalogue is the API's (`listings::catalogue`), rendered as cards.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::visitor::Visitor;
use super::words::buyer::Buyer;
use super::{Frame, page};
use crate::auth::rate_limit::{Throttles, client_address};
use crate::domain::money::format_vnd;
use crate::error::AppError;
use crate::listings::Listing;
use crate::listings::catalogue::{self, CatalogueItem, CatalogueQuery};
use crate::listings::index::CatalogueIndex;
use crate::state::AppState;

/// A listing as a card of a list.
pub struct Card {
    pub href: String,
    pub title: String,
    pub price: String,
    pub place: String,
    pub farmer: String,
    pub thumb: Option<String>,
    pub sold_out: bool,
}

impl From<CatalogueItem> for Card {
    fn from(item: CatalogueItem) -> Card {
        Card {
            href: format!("/listings/{}", item.id),
            price: format!("{}/{}", format_vnd(item.price_vnd), item.unit.name_vi()),
            place: format!("{}, {}", item.ward.name, item.province.name),
            farmer: item.farmer.name,
            thumb: item.thumb_url,
            sold_out: item.quantity == 0,
            title: item.title,
        }
    }
}

impl From<&Listing> for Card {
    fn from(listing: &Listing) -> Card {
        Card {
            href: format!("/listings/{}", listing.id),
            title: listing.title.clone(),
            price: format!("{}/{}", format_vnd(listing.price_vnd), listing.unit_name),
            place: format!("{}, {}", listing.ward.name, listing.province.name),
            farmer: listing.farmer.name.clone(),
            thumb: listing.photo.as_ref().map(|photo| photo.thumb_url.clone()),
            sold_out: listing.sold_out,
        }
    }
}

/// A choice among several (a category tile, a province).
pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(Deserialize)]
struct HomeQuery {
    q: Option<String>,
    category: Option<String>,
    province: Option<String>,
    cursor: Option<String>,
    /// Only the results (search as you type swaps them in).
    partial: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    frame: Frame,
    w: &'static Buyer,
    q: String,
    categories: Vec<Choice>,
    /// How many category tiles show before "more" (two rows on a phone).
    first_tiles: usize,
    /// The chosen category is among the others: they show.
    more_open: bool,
    provinces: Vec<Choice>,
    results: Results,
}

/// The cards of a search, and the link to the next page.
#[derive(Template)]
#[template(path = "results.html")]
struct Results {
    w: &'static Buyer,
    heading: String,
    cards: Vec<Card>,
    next: Option<String>,
}

/// Category tiles shown before "more": two rows of three on a phone, so results show without scrolling far.
const FIRST_TILES: usize = 6;

/// The front door: search (accents optional), browse by category and province, newest first.
#[get("/")]
async fn home_page(
    state: web::Data<AppState>,
    index: web::Data<CatalogueIndex>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, AppError> {
    Throttles::of(&state).search(&client_address(&req)).await?;
    let w = Buyer::of(visitor.lang);
    let q = query.q.clone().unwrap_or_default();
    let category = query.category.clone().filter(|c| !c.is_empty());
    let province = query.province.as_deref().and_then(|p| p.parse::<i32>().ok());
    let catalogue_query = CatalogueQuery {
        q: Some(q.clone()),
        category: category.clone(),
        province,
        ward: None,
        min_price: None,
        max_price: None,
        sort: None,
        limit: Some(20),
        cursor: query.cursor.clone(),
    };
    let found = catalogue::load_page(&index, catalogue::filter_from(&catalogue_query)?).await?;
    let next = found.next_cursor.map(|cursor| {
        let mut next = form_urlencoded::Serializer::new(String::new());
        next.append_pair("q", &q);
        if let Some(category) = &category {
            next.append_pair("category", category);
        }
        if let Some(province) = province {
            next.append_pair("province", &province.to_string());
        }
        format!("/?{}", next.append_pair("cursor", &cursor).finish())
    });
    let heading =
        if q.trim().is_empty() { w.newest.to_owned() } else { format!("{} “{}”", w.results_for, q.trim()) };
    let results = Results { w, heading, cards: found.items.into_iter().map(Card::from).collect(), next };
    if query.partial.is_some() {
        return page(&visitor, &results);
    }
    let reference = &state.reference;
    let mut categories = vec![Choice { value: String::new(), label: w.all.to_owned(), chosen: category.is_none() }];
    categories.extend(reference.categories.all().iter().map(|c| Choice {
        value: c.code.clone(),
        label: if visitor.lang == crate::error::Lang::En { c.name_en.clone() } else { c.name_vi.clone() },
        chosen: category.as_deref() == Some(c.code.as_str()),
    }));
    let mut provinces =
        vec![Choice { value: String::new(), label: w.all_provinces.to_owned(), chosen: province.is_none() }];
    provinces.extend(reference.places.provinces().iter().map(|p| Choice {
        value: p.code.to_string(),
        label: p.name.clone(),
        chosen: province == Some(p.code),
    }));
    let first_tiles = FIRST_TILES.min(categories.len());
    let more_open = categories[first_tiles..].iter().any(|choice| choice.chosen);
    let frame = Frame::new(&visitor, &req);
    page(&visitor, &Home { frame, w, q, categories, first_tiles, more_open, provinces, results })
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    frame: Frame,
    w: &'static Buyer,
    listing: Listing,
    price: String,
    photo: Option<String>,
    stock: String,
}

/// One listing: photo, price, stock, farmer, commune; a quantity and "add to basket" / "buy now".
#[get("/listings/{id}")]
async fn listing_page(
    index: web::Data<CatalogueIndex>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let w = Buyer::of(visitor.lang);
    let listing = catalogue::public_listing(&index, id.into_inner()).await?;
    let price = format!("{}/{}", format_vnd(listing.price_vnd), listing.unit_name);
    let stock = if listing.sold_out {
        w.sold_out.to_owned()
    } else {
        format!("{} {} {}", w.left, listing.quantity, listing.unit_name)
    };
    let photo = listing.photo.as_ref().map(|photo| photo.url.clone());
    page(&visitor, &ListingPage { frame: Frame::new(&visitor, &req), w, price, photo, stock, listing })
}

#[derive(Template)]
#[template(path = "storefront.html")]
struct StorefrontPage {
    frame: Frame,
    w: &'static Buyer,
    name: String,
    place: String,
    cards: Vec<Card>,
}

/// A farmer's storefront: their name, commune and what they sell (never their phone).
#[get("/farmers/{id}")]
async fn storefront_page(
    index: web::Data<CatalogueIndex>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let front = catalogue::storefront_of(&index, id.into_inner()).await?;
    let cards = front.listings.iter().map(Card::from).collect();
    let place = format!("{}, {}", front.ward.name, front.province.name);
    let frame = Frame::new(&visitor, &req);
    page(&visitor, &StorefrontPage { frame, w: Buyer::of(visitor.lang), name: front.farmer.name, place, cards })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home_page).service(listing_page).service(storefront_page);
}
