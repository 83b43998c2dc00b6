//! The community helper's pages: the households of the team's communes, enrolling one (the farmer types
//! their own PIN and ticks the consent on the helper's phone), acting for one (the farmer pages then work
//! on their farm, saying so on every page, until "Xong"), and a PIN reset after an in-person check. The
//! rules are the API's (`helpers::rules`); acting is checked on every request (`seat`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::{field_messages, plain_words};
use super::login::login_page;
use super::visitor::{ACTING_COOKIE, Form, Visitor};
use super::words::people::People;
use super::{Frame, PersonOrPage, or_show, page, page_with_status, see_other};
use crate::auth::SessionUser;
use crate::domain::status::Role;
use crate::error::{AppError, Kind};
use crate::helpers::rules::{self, Enrolling, TeamFarmer};
use crate::http::Page;
use crate::reference::WardRef;
use crate::state::AppState;

/// The helper of this visit, or the page to show instead (log in; not a helper).
fn helper_or_page(visitor: &Visitor, req: &HttpRequest) -> PersonOrPage<SessionUser> {
    let w = People::of(visitor.lang);
    Ok(match &visitor.user {
        Some(user) if user.role == Role::Helper => Ok(user.clone()),
        Some(_) => Err(super::refusal_page(visitor, req, w.helpers_only)?),
        None => Err(login_page(visitor, req, w.helper_login_title, StatusCode::OK)?),
    })
}

#[derive(Template)]
#[template(path = "helper_home.html")]
struct HomePage {
    frame: Frame,
    w: &'static People,
    households: Vec<TeamFarmer>,
    next: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct HomeQuery {
    cursor: Option<String>,
    done: Option<String>,
}

#[get("/helper")]
async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let w = People::of(visitor.lang);
    let (households, next) =
        rules::households(&state, &helper, Page::from_query(Some(30), query.cursor.as_deref())?).await?;
    let next = next.map(|cursor| {
        format!("/helper?cursor={}", form_urlencoded::byte_serialize(cursor.as_bytes()).collect::<String>())
    });
    let notice = (query.done.as_deref() == Some("pin")).then_some(w.pin_was_reset);
    page(&visitor, &HomePage { frame: Frame::new(&visitor, &req), w, households, next, notice })
}

/// Starts acting for a household: checked as the API checks `X-On-Behalf-Of`, then the farmer's home.
#[post("/helper/act/{farmer_id}")]
async fn act_for(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    farmer_id: web::Path<i64>,
    Form(_): Form<serde::de::IgnoredAny>,
) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let farmer_id = farmer_id.into_inner();
    rules::household(&state, &helper, farmer_id).await?;
    let mut response = see_other(&visitor, "/farmer");
    visitor.remember(&mut response, ACTING_COOKIE, farmer_id.to_string());
    Ok(response.finish())
}

/// Stops acting for a household ("Xong" on every page while acting).
#[post("/helper/stop")]
async fn stop_acting(visitor: Visitor, Form(_): Form<serde::de::IgnoredAny>) -> HttpResponse {
    let mut response = see_other(&visitor, "/helper");
    visitor.forget(&mut response, ACTING_COOKIE);
    response.finish()
}

#[derive(Default, Deserialize)]
struct EnrolForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    ward_code: Option<String>,
    #[serde(default)]
    pin: String,
    consent: Option<String>,
}

#[derive(Template)]
#[template(path = "helper_enrol.html")]
struct EnrolPage {
    frame: Frame,
    w: &'static People,
    communes: Vec<WardRef>,
    form: EnrolForm,
    errors: BTreeMap<String, String>,
    refusal: Option<String>,
}

impl EnrolPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    fn chosen(&self, code: &i32) -> bool {
        self.form.ward_code.as_deref() == Some(code.to_string().as_str()) || self.communes.len() == 1
    }
}

#[get("/helper/enrol")]
async fn enrol_form(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let communes = rules::team_communes(&state, &helper).await?;
    let page_ = EnrolPage {
        frame: Frame::new(&visitor, &req),
        w: People::of(visitor.lang),
        communes,
        form: EnrolForm::default(),
        errors: BTreeMap::new(),
        refusal: None,
    };
    page(&visitor, &page_)
}

#[derive(Template)]
#[template(path = "helper_enrolled.html")]
struct EnrolledPage {
    frame: Frame,
    w: &'static People,
    farmer_id: i64,
    name: String,
}

#[post("/helper/enrol")]
async fn enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<EnrolForm>,
) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let w = People::of(visitor.lang);
    let enrolling = Enrolling {
        phone: &form.phone,
        name: &form.name,
        ward_code: form.ward_code.as_deref().and_then(|code| code.parse().ok()).unwrap_or_default(),
        pin: &form.pin,
        consent: form.consent.is_some(),
    };
    let refused = match rules::enrol(&state, &helper, &enrolling).await {
        Ok(farmer) => {
            let page_ = EnrolledPage { frame: Frame::new(&visitor, &req), w, farmer_id: farmer.id, name: farmer.name };
            return page_with_status(&visitor, &page_, StatusCode::CREATED);
        }
        Err(error) if error.kind.status().is_client_error() => error,
        Err(error) => return Err(error),
    };
    let errors = field_messages(&refused, visitor.lang);
    let refusal = errors.is_empty().then(|| plain_words(&refused, visitor.lang));
    let communes = rules::team_communes(&state, &helper).await?;
    // The PIN is the farmer's: never written back into the page.
    let form = EnrolForm { pin: String::new(), ..form };
    let page_ = EnrolPage { frame: Frame::new(&visitor, &req), w, communes, form, errors, refusal };
    page_with_status(&visitor, &page_, refused.kind.status())
}

#[derive(Template)]
#[template(path = "helper_pin.html")]
struct PinPage {
    frame: Frame,
    w: &'static People,
    farmer_id: i64,
    name: String,
    errors: BTreeMap<String, String>,
}

impl PinPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[get("/helper/farmers/{farmer_id}/pin-reset")]
async fn pin_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    farmer_id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let farmer_id = farmer_id.into_inner();
    let name = rules::household(&state, &helper, farmer_id).await?;
    let w = People::of(visitor.lang);
    page(&visitor, &PinPage { frame: Frame::new(&visitor, &req), w, farmer_id, name, errors: BTreeMap::new() })
}

#[derive(Deserialize)]
struct PinForm {
    #[serde(default)]
    new_pin: String,
    identity_checked: Option<String>,
}

#[post("/helper/farmers/{farmer_id}/pin-reset")]
async fn reset_pin(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    farmer_id: web::Path<i64>,
    Form(form): Form<PinForm>,
) -> Result<HttpResponse, AppError> {
    let helper = or_show!(helper_or_page(&visitor, &req));
    let farmer_id = farmer_id.into_inner();
    match rules::reset_pin(&state, &helper, farmer_id, &form.new_pin, form.identity_checked.is_some()).await {
        Ok(()) => Ok(see_other(&visitor, "/helper?done=pin").finish()),
        Err(error) if error.kind == Kind::Unprocessable => {
            let name = rules::household(&state, &helper, farmer_id).await?;
            let w = People::of(visitor.lang);
            let errors = field_messages(&error, visitor.lang);
            let page_ = PinPage { frame: Frame::new(&visitor, &req), w, farmer_id, name, errors };
            page_with_status(&visitor, &page_, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(error) => Err(error),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(act_for)
        .service(stop_acting)
        .service(enrol_form)
        .service(enrol)
        .service(pin_form)
        .service(reset_pin);
}
