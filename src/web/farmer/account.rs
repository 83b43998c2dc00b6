//! A farmer logs in with phone and a 6-digit PIN on a big keypad, or signs up with name, phone, commune and a
//! PIN: the API's own rules (`accounts::rules`: the same checks, the same login limits and lockout), and the
//! session is the API's, carried in the session cookie.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::seat_or_door;
use crate::accounts::rules::{open_session, pin_log_in, sign_up_farmer};
use crate::auth::rate_limit::{Throttles, client_address};
use crate::error::{AppError, Kind};
use crate::state::AppState;
use crate::web::forms::{WardChoice, field_messages, resolve_ward};
use crate::web::visitor::{ACTING_COOKIE, Form, Visitor};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, page, page_with_status, see_other};

#[derive(Template)]
#[template(path = "farmer_login.html")]
struct LoginPage {
    frame: Frame,
    w: &'static Farmer,
    phone: String,
    errors: BTreeMap<String, String>,
}

/// The log-in page, with `status` (401 when it answers a form that needed a farmer).
pub fn login_page(req: &HttpRequest, visitor: &Visitor, status: StatusCode) -> Result<HttpResponse, AppError> {
    let page_ = LoginPage {
        frame: Frame::new(visitor, req),
        w: Farmer::of(visitor.lang),
        phone: String::new(),
        errors: BTreeMap::new(),
    };
    page_with_status(visitor, &page_, status)
}

/// The errors of a refused form beside its fields: each invalid field's message, or the problem's own words
/// beside `field` (a wrong PIN, a lockout, a phone already taken).
fn messages(error: &AppError, visitor: &Visitor, field: &str) -> BTreeMap<String, String> {
    let mut messages = field_messages(error, visitor.lang);
    if messages.is_empty()
        && let Some(detail) = &error.detail
    {
        messages.insert(field.to_owned(), detail.get(visitor.lang).to_owned());
    }
    messages
}

/// The errors a page shows beside its fields; anything else (a database outage) is the error page's.
fn shown(error: AppError) -> Result<AppError, AppError> {
    match error.kind {
        Kind::Unprocessable | Kind::Unauthorized | Kind::TooManyRequests | Kind::Conflict => Ok(error),
        _ => Err(error),
    }
}

/// Logged in: the session cookie, and whom a helper acted for forgotten.
fn logged_in(visitor: &Visitor, token: String) -> HttpResponse {
    let mut response = see_other(visitor, "/farmer");
    visitor.log_in(&mut response, token);
    visitor.forget(&mut response, ACTING_COOKIE);
    response.finish()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    pin: String,
}

#[post("/farmer/login")]
async fn log_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let error = match pin_log_in(&state, &form.phone, form.pin, &client_address(&req)).await {
        // A phone and PIN only ever open a farmer's account.
        Ok((user_id, _)) => {
            let (token, _) = open_session(&state.db, user_id, state.clock.now()).await?;
            return Ok(logged_in(&visitor, token));
        }
        Err(error) => shown(error)?,
    };
    let page_ = LoginPage {
        frame: Frame::new(&visitor, &req),
        w: Farmer::of(visitor.lang),
        errors: messages(&error, &visitor, "pin"),
        phone: form.phone,
    };
    page_with_status(&visitor, &page_, error.kind.status())
}

/// What the sign-up form holds.
#[derive(Default, Deserialize)]
struct SignupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    ward_code: String,
    #[serde(default)]
    ward_text: String,
    #[serde(default)]
    pin: String,
}

#[derive(Template)]
#[template(path = "farmer_signup.html")]
struct SignupPage {
    frame: Frame,
    w: &'static Farmer,
    form: SignupForm,
    ward_choices: Vec<WardChoice>,
    errors: BTreeMap<String, String>,
}

#[get("/farmer/signup")]
async fn signup_page(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    if visitor.user.is_some() {
        // Someone logged in has nothing to sign up for here: their farm, `/helper`, or the refusal.
        return Ok(match seat_or_door(&state, &req, &visitor).await? {
            Ok(_) => see_other(&visitor, "/farmer").finish(),
            Err(door) => door,
        });
    }
    let page_ = SignupPage {
        frame: Frame::new(&visitor, &req),
        w: Farmer::of(visitor.lang),
        form: SignupForm::default(),
        ward_choices: Vec::new(),
        errors: BTreeMap::new(),
    };
    page(&visitor, &page_)
}

#[post("/farmer/signup")]
async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(mut form): Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let w = Farmer::of(visitor.lang);
    let ward = resolve_ward(&state, Some(&form.ward_code), &form.ward_text);
    let ward_code = *ward.as_ref().unwrap_or(&0);
    let throttled = Throttles::of(&state).sign_up(&client_address(&req), Some(&form.phone)).await;
    let signed_up = match throttled {
        Ok(()) => sign_up_farmer(&state, &form.phone, &form.name, ward_code, &form.pin).await,
        Err(too_many) => Err(too_many),
    };
    let error = match signed_up {
        Ok(farmer_id) if ward.is_ok() => {
            let (token, _) = open_session(&state.db, farmer_id, state.clock.now()).await?;
            return Ok(logged_in(&visitor, token));
        }
        Ok(_) => return Err(AppError::internal(anyhow::anyhow!("a farmer signed up without a commune"))),
        Err(error) => shown(error)?,
    };
    let mut errors = messages(&error, &visitor, "phone");
    let ward_choices = match ward {
        Ok(_) => Vec::new(),
        Err(choices) => {
            errors.insert("ward_code".to_owned(), w.choose_commune.to_owned());
            choices
        }
    };
    // The PIN is typed again rather than sent back into the page.
    form.pin.clear();
    let page_ = SignupPage { frame: Frame::new(&visitor, &req), w, form, ward_choices, errors };
    page_with_status(&visitor, &page_, error.kind.status())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(log_in).service(signup_page).service(sign_up);
}
