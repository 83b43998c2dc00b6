//! Who is looking at a page: their language, their CSRF token, and the person logged in. Sessions are the
//! API's own sessions, carried in an HttpOnly cookie; every form carries the CSRF token of a second cookie
//! (double submit), and a form posted without it is refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use rand::Rng;
use serde::de::DeserializeOwned;

use crate::accounts::rules::SESSION_LIFETIME;
use crate::auth::{SessionUser, session_user};
use crate::error::{AppError, Kind, Lang, Text};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "ns_session";
pub const CSRF_COOKIE: &str = "ns_csrf";
pub const LANG_COOKIE: &str = "ns_lang";
/// The farmer a helper is acting for, by id (checked against the helper's team on every request).
pub const ACTING_COOKIE: &str = "ns_acting";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The visitor of a page.
pub struct Visitor {
    pub lang: Lang,
    /// The token every form of the page carries.
    pub csrf: String,
    /// A CSRF cookie has to be set with this answer.
    fresh_csrf: bool,
    /// The person logged in, if any.
    pub user: Option<SessionUser>,
    /// The session cookie, when it is live.
    pub session_token: Option<String>,
    /// The farmer a helper says they act for (not yet checked).
    pub acting_for: Option<i64>,
    secure: bool,
}

fn new_csrf_token() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// The language of a page: the visitor's choice (the toggle's cookie), else their browser's.
fn lang_of(req: &HttpRequest) -> Lang {
    match req.cookie(LANG_COOKIE).as_ref().map(Cookie::value) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => Lang::from_accept_language(req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())),
    }
}

impl FromRequest for Visitor {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Visitor, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let csrf = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 32);
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let acting_for = req.cookie(ACTING_COOKIE).and_then(|c| c.value().parse().ok());
        let lang = lang_of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no AppState")))?;
            let user = match &token {
                Some(token) => session_user(&state, token).await?,
                None => None,
            };
            let secure = state.settings.public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
            Ok(Visitor {
                lang,
                fresh_csrf: csrf.is_none(),
                csrf: csrf.unwrap_or_else(new_csrf_token),
                session_token: token.filter(|_| user.is_some()),
                user,
                acting_for,
                secure,
            })
        })
    }
}

impl Visitor {
    /// A visitor nobody knows yet, for pages made without the request's cookies (error pages).
    pub fn anonymous(lang: Lang) -> Visitor {
        Visitor {
            lang,
            csrf: String::new(),
            fresh_csrf: false,
            user: None,
            session_token: None,
            acting_for: None,
            secure: false,
        }
    }

    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(name, value);
        cookie.set_path("/");
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(self.secure);
        cookie
    }

    /// Sets the cookies this visit needs on its answer (a first CSRF token).
    pub fn finish(&self, response: &mut HttpResponseBuilder) {
        if self.fresh_csrf {
            response.cookie(self.cookie(CSRF_COOKIE, self.csrf.clone()));
        }
    }

    /// Logs the visitor in with a new session token, kept as long as the session lives.
    pub fn log_in(&self, response: &mut HttpResponseBuilder, token: String) {
        let mut cookie = self.cookie(SESSION_COOKIE, token);
        cookie.set_max_age(actix_web::cookie::time::Duration::days(SESSION_LIFETIME.num_days()));
        response.cookie(cookie);
    }

    /// Forgets the session (and whom a helper was acting for) on an answer already built.
    pub fn log_out(&self, response: &mut HttpResponse) -> Result<(), AppError> {
        for name in [SESSION_COOKIE, ACTING_COOKIE] {
            response.add_cookie(&self.forgotten(name)).map_err(AppError::internal)?;
        }
        Ok(())
    }

    /// Remembers a choice of the visitor's (language, basket, whom a helper acts for) for a year.
    pub fn remember(&self, response: &mut HttpResponseBuilder, name: &'static str, value: String) {
        response.cookie(self.remembered(name, value));
    }

    /// The cookie that remembers a choice, for an answer already built.
    pub fn remembered(&self, name: &'static str, value: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, value);
        cookie.set_max_age(actix_web::cookie::time::Duration::days(365));
        cookie
    }

    /// Forgets a remembered choice.
    pub fn forget(&self, response: &mut HttpResponseBuilder, name: &'static str) {
        response.cookie(self.forgotten(name));
    }

    /// The cookie that forgets a remembered choice.
    fn forgotten(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new());
        cookie.make_removal();
        cookie
    }
}

/// The largest form accepted (photos are posted separately, as multipart).
const FORM_LIMIT: usize = 64 * 1024;

fn csrf_refused() -> AppError {
    AppError::new(
        Kind::Forbidden,
        "csrf_token_invalid",
        Text::new(
            "Trang này đã cũ. Hãy tải lại trang rồi thử lại.",
            "This page is out of date. Reload it and try again.",
        ),
    )
}

/// Whether a posted token is the visitor's.
pub fn csrf_matches(req: &HttpRequest, posted: Option<&str>) -> bool {
    let cookie = req.cookie(CSRF_COOKIE);
    matches!((cookie.as_ref().map(Cookie::value), posted), (Some(expected), Some(posted)) if expected.len() == 32 && expected == posted)
}

/// A form posted from one of the app's pages: refused with 403 unless it carries the visitor's CSRF token.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Form<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::bare(Kind::PayloadTooLarge).into());
            }
            let posted = form_urlencoded::parse(&body).find(|(name, _)| name == CSRF_FIELD).map(|(_, value)| value);
            if !csrf_matches(&req, posted.as_deref()) {
                return Err(csrf_refused().into());
            }
            let form = serde_urlencoded::from_bytes(&body).map_err(|_| {
                AppError::new(
                    Kind::BadRequest,
                    "form_unreadable",
                    Text::new("Không đọc được biểu mẫu; hãy thử lại.", "The form could not be read; try again."),
                )
            })?;
            Ok(Form(form))
        })
    }
}

/// 403 unless `posted` is the visitor's CSRF token (for multipart forms, read field by field).
pub fn check_csrf(req: &HttpRequest, posted: Option<&str>) -> Result<(), AppError> {
    if csrf_matches(req, posted) { Ok(()) } else { Err(csrf_refused()) }
}
