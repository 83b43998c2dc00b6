//! The phone-first web app, served by the service itself: server-rendered pages over the same rules as the
//! JSON API (no second copy of a business rule, no page-only SQL), with a little JavaScript that only
//! improves them. Templates are in `assets/web/templates/` (checked at compile time), files in
//! `assets/web/static/` (compiled in, see `assets`), texts in `words`.
//!
//! Pages by who uses them: buyers (`shop`, `basket`, `track`), farmers (`farmer`), farmers' monthly statements
//! (`statements`, for farmers and operators). The visitor (language, CSRF, session cookie) is in `visitor`;
//! logging out, for everyone, here.

pub mod assets;
pub mod basket;
pub mod farmer;
pub mod forms;
pub mod helper;
pub mod login;
pub mod lookups;
pub mod operator;
pub mod payments;
pub mod report;
pub mod seat;
pub mod shop;
pub mod statements;
pub mod track;
pub mod visitor;
pub mod words;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::status::Role;
use crate::error::{AppError, Lang, Problem};
use crate::state::AppState;
use visitor::{LANG_COOKIE, Visitor};
use words::Common;

/// What every page says about itself; see `assets/web/templates/base.html`.
pub struct Frame {
    pub lang: &'static str,
    pub c: &'static Common,
    pub css: &'static str,
    pub js: &'static str,
    pub icons: &'static str,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The farmer a helper is acting for: every page says so.
    pub acting_for: Option<String>,
    /// Where the language toggle comes back to.
    pub here: String,
    pub logged_in: bool,
}

/// One item of the bottom bar: an icon with a word.
pub struct NavItem {
    pub href: &'static str,
    pub icon: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Frame {
    pub fn new(visitor: &Visitor, req: &HttpRequest) -> Frame {
        Frame::with_role(visitor, req, visitor.user.as_ref().map(|user| user.role))
    }

    /// The frame with the bottom bar of `role` (a helper acting for a farmer gets the farmer's bar).
    pub fn with_role(visitor: &Visitor, req: &HttpRequest, role: Option<Role>) -> Frame {
        let c = Common::of(visitor.lang);
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        let items: &[(&'static str, &'static str, &'static str)] = match role {
            Some(Role::Farmer) => &[
                ("/farmer", "inbox", c.farmer_home),
                ("/farmer/listings/new", "plus", c.sell),
                ("/farmer/listings", "box", c.my_listings),
                ("/farmer/money", "coins", c.money),
            ],
            Some(Role::Helper) => &[("/helper", "people", c.households), ("/", "search", c.search)],
            Some(Role::Operator) => &[("/operator", "gear", c.operator), ("/", "search", c.search)],
            Some(Role::Buyer) | None => &[
                ("/", "search", c.search),
                ("/basket", "basket", c.basket),
                ("/orders", "receipt", c.orders),
                ("/farmer", "leaf", c.seller),
            ],
        };
        // The item for this page: the one whose path holds it most closely (`/farmer/listings/new` is "Sell",
        // not "My produce" nor the farmer's home).
        let path = req.path();
        let holds = |href: &str| path == href || (href != "/" && path.starts_with(&format!("{href}/")));
        let current = items.iter().map(|(href, _, _)| *href).filter(|href| holds(href)).max_by_key(|href| href.len());
        let nav = items
            .iter()
            .map(|(href, icon, label)| NavItem { href, icon, label, current: current == Some(*href) })
            .collect();
        Frame {
            lang: words::code(visitor.lang),
            c,
            css: assets::path_of("app.css"),
            js: assets::path_of("app.js"),
            icons: assets::path_of("icons.svg"),
            csrf: visitor.csrf.clone(),
            nav,
            acting_for: None,
            here,
            logged_in: visitor.user.is_some(),
        }
    }
}

/// Who a page is for, or the page shown instead (the log-in form, a refusal).
pub type PersonOrPage<T> = Result<Result<T, HttpResponse>, AppError>;

/// The person a page is for, else the page shown instead: `let helper = or_show!(helper_or_page(..));`.
macro_rules! or_show {
    ($checked:expr) => {
        match $checked? {
            Ok(person) => person,
            Err(shown) => return Ok(shown),
        }
    };
}
pub(crate) use or_show;

/// A page a logged-in person may not use: says whom it is for, with the way to log out.
pub fn refusal_page(visitor: &Visitor, req: &HttpRequest, detail: &str) -> Result<HttpResponse, AppError> {
    let page_ = ErrorPage {
        frame: Frame::new(visitor, req),
        title: Common::of(visitor.lang).not_for_you.to_owned(),
        detail: detail.to_owned(),
    };
    page_with_status(visitor, &page_, actix_web::http::StatusCode::FORBIDDEN)
}

/// What no page may load from elsewhere, and no inline script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
    script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; \
    object-src 'none'; manifest-src 'self'; worker-src 'self'";

/// A rendered page, with the visitor's cookies and the app's security headers.
pub fn page(visitor: &Visitor, template: &impl Template) -> Result<HttpResponse, AppError> {
    page_with_status(visitor, template, actix_web::http::StatusCode::OK)
}

/// A rendered page with another status (a form shown again with its errors is 422).
pub fn page_with_status(
    visitor: &Visitor,
    template: &impl Template,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let html = template.render().map_err(AppError::internal)?;
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "private, no-cache"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"));
    visitor.finish(&mut response);
    Ok(response.body(html))
}

/// 303 to `to`, after a form (so a reload does not post it again).
pub fn see_other(visitor: &Visitor, to: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((LOCATION, to.to_owned()));
    visitor.finish(&mut response);
    response
}

/// A fresh `Idempotency-Key` for a form that must act once however often it is sent.
pub fn new_key() -> String {
    format!("web-{:032x}", rand::Rng::random::<u128>(&mut rand::rng()))
}

/// A path of this site to come back to (anything else goes home).
pub fn local_path(path: Option<&str>) -> String {
    match path {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

#[derive(Deserialize)]
struct LangQuery {
    back: Option<String>,
}

/// The language toggle: remembered in a cookie, then back to the page.
#[get("/lang/{lang}")]
async fn choose_language(
    visitor: Visitor,
    lang: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let code = if lang.as_str() == "en" { "en" } else { "vi" };
    let mut response = see_other(&visitor, &local_path(query.back.as_deref()));
    visitor.remember(&mut response, LANG_COOKIE, code.to_owned());
    Ok(response.finish())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    title: String,
    detail: String,
}

/// The page shown for an error a page request met (the API's problem, in plain words).
pub fn error_page(req: &HttpRequest, problem: &Problem, lang: Lang) -> Option<String> {
    let visitor = Visitor::anonymous(lang);
    let page = ErrorPage {
        frame: Frame::new(&visitor, req),
        title: problem.title.clone(),
        detail: problem.detail.clone().unwrap_or_default(),
    };
    page.render().ok()
}

#[derive(Template)]
#[template(path = "logged_out.html")]
struct LoggedOut {
    frame: Frame,
    w: &'static words::farmer::Farmer,
}

/// Logs anyone out: the session ends in the store (as the API's logout ends it), the cookies go, and the page
/// tells the phone to forget the pages it kept (`data-logged-out`).
#[post("/logout")]
async fn log_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut visitor: Visitor,
    visitor::Form(_): visitor::Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    if let Some(user) = visitor.user.take() {
        crate::accounts::rules::end_session(&state.db, user.session_id, state.clock.now()).await?;
    }
    let page_ = LoggedOut { frame: Frame::new(&visitor, &req), w: words::farmer::Farmer::of(visitor.lang) };
    let mut response = page(&visitor, &page_)?;
    visitor.log_out(&mut response)?;
    Ok(response)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(assets::routes)
        .service(choose_language)
        .service(log_out)
        .configure(shop::routes)
        .configure(basket::routes)
        .configure(track::routes)
        .configure(login::routes)
        .configure(helper::routes)
        .configure(operator::routes)
        .configure(payments::routes)
        .configure(lookups::routes)
        .configure(report::routes)
        .configure(farmer::routes)
        .configure(statements::routes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_back() {
        assert_eq!(local_path(Some("/listings/3?x=1")), "/listings/3?x=1");
        for elsewhere in [Some("https://evil.example"), Some("//evil.example"), Some("/\\evil"), None] {
            assert_eq!(local_path(elsewhere), "/");
        }
    }
}
