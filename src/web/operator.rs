//! The operator's page: log in, then the forms the API has (create a team, a helper, a partner, a partner's
//! key; suspend or reinstate someone). Each form posts to its own path and the page comes back saying what was made, or what was wrong
//! beside the field; a new key is shown once. The rules are the API's (`admin::rules`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::{field_messages, plain_words};
use super::login::login_page;
use super::visitor::{Form, Visitor};
use super::words::people::People;
use super::{Frame, PersonOrPage, or_show, page_with_status};
use crate::admin::rules::{self, NewHelper};
use crate::domain::status::{OperatorAction, Role, Suspendable};
use crate::error::AppError;
use crate::reference::PlaceRef;
use crate::state::AppState;

/// Which form an answer is about, so its errors show beside its own fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Team,
    Helper,
    Partner,
    Key,
    Suspension,
}

#[derive(Template)]
#[template(path = "operator.html")]
struct OperatorPage {
    frame: Frame,
    w: &'static People,
    teams: Vec<(i64, String)>,
    partners: Vec<(i64, String)>,
    provinces: Vec<PlaceRef>,
    /// What was just made.
    made: Option<String>,
    /// A new API key, shown this once.
    key: Option<String>,
    section: Option<Section>,
    errors: BTreeMap<String, String>,
    refusal: Option<String>,
}

impl OperatorPage {
    /// The message of `field` when the answer is about `section`'s form.
    fn error(&self, section: Section, field: &str) -> Option<&String> {
        self.errors.get(field).filter(|_| self.section == Some(section))
    }

    fn refused(&self, section: Section) -> Option<&String> {
        self.refusal.as_ref().filter(|_| self.section == Some(section))
    }
}

pub(super) fn operator_or_page(visitor: &Visitor, req: &HttpRequest) -> PersonOrPage<()> {
    let w = People::of(visitor.lang);
    Ok(match &visitor.user {
        Some(user) if user.role == Role::Operator => Ok(()),
        Some(_) => Err(super::refusal_page(visitor, req, w.operators_only)?),
        None => Err(login_page(visitor, req, w.operator_login_title, StatusCode::OK)?),
    })
}

/// The page, after `outcome` of one of its forms (none when simply opened).
async fn operator_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    req: &HttpRequest,
    section: Option<Section>,
    outcome: Result<(Option<String>, Option<String>), AppError>,
) -> Result<HttpResponse, AppError> {
    let (teams, partners) = rules::teams_and_partners(state).await?;
    let mut page_ = OperatorPage {
        frame: Frame::new(visitor, req),
        w: People::of(visitor.lang),
        teams,
        partners,
        provinces: state
            .reference
            .places
            .provinces()
            .iter()
            .map(|p| state.reference.places.province_place(p.code))
            .collect(),
        made: None,
        key: None,
        section,
        errors: BTreeMap::new(),
        refusal: None,
    };
    let status = match outcome {
        Ok((made, key)) => {
            page_.made = made;
            page_.key = key;
            if section.is_some() { StatusCode::CREATED } else { StatusCode::OK }
        }
        Err(error) if error.kind.status().is_client_error() => {
            page_.errors = field_messages(&error, visitor.lang);
            page_.refusal = page_.errors.is_empty().then(|| plain_words(&error, visitor.lang));
            error.kind.status()
        }
        Err(error) => return Err(error),
    };
    page_with_status(visitor, &page_, status)
}

#[get("/operator")]
async fn home(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    operator_page(&state, &visitor, &req, None, Ok((None, None))).await
}

/// Codes typed as a list: `26734, 26737` (spaces, commas or new lines between them). Anything that is not
/// a number stays in as 0, which the rule then names as an unknown code.
fn codes(text: &str) -> Vec<i32> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|code| !code.is_empty())
        .map(|code| code.parse().unwrap_or(0))
        .collect()
}

#[derive(Deserialize)]
struct TeamForm {
    name: String,
    ward_codes: String,
}

#[post("/operator/teams")]
async fn create_team(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<TeamForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let w = People::of(visitor.lang);
    let outcome = rules::create_team(&state, &form.name, codes(&form.ward_codes))
        .await
        .map(|team| (Some(format!("{} {} ({} {})", w.created_team, team.name, w.code, team.id)), None));
    operator_page(&state, &visitor, &req, Some(Section::Team), outcome).await
}

#[derive(Deserialize)]
struct HelperForm {
    team_id: i64,
    name: String,
    phone: String,
    email: String,
    password: String,
}

#[post("/operator/helpers")]
async fn create_helper(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<HelperForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let w = People::of(visitor.lang);
    let given = |text: &str| Some(text.trim()).filter(|text| !text.is_empty()).map(str::to_owned);
    let (phone, email) = (given(&form.phone), given(&form.email));
    let helper =
        NewHelper { name: &form.name, phone: phone.as_deref(), email: email.as_deref(), password: &form.password };
    let outcome = rules::create_helper(&state, form.team_id, &helper)
        .await
        .map(|profile| (Some(format!("{} {} ({} {})", w.created_helper, profile.name, w.code, profile.id)), None));
    operator_page(&state, &visitor, &req, Some(Section::Helper), outcome).await
}

#[post("/operator/partners")]
async fn create_partner(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // Repeated fields (one per ticked province) need the form read pair by pair.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    super::visitor::check_csrf(&req, field(super::visitor::CSRF_FIELD))?;
    or_show!(operator_or_page(&visitor, &req));
    // One `province` field per ticked province.
    let provinces = pairs.iter().filter(|(key, _)| key == "province").filter_map(|(_, code)| code.parse().ok());
    let w = People::of(visitor.lang);
    let outcome = rules::create_partner(&state, field("name").unwrap_or_default(), provinces.collect())
        .await
        .map(|partner| (Some(format!("{} {} ({} {})", w.created_partner, partner.name, w.code, partner.id)), None));
    operator_page(&state, &visitor, &req, Some(Section::Partner), outcome).await
}

#[derive(Deserialize)]
struct KeyForm {
    partner_id: i64,
}

#[post("/operator/keys")]
async fn create_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<KeyForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let outcome = rules::create_key(&state, form.partner_id).await.map(|key| (None, Some(key.key)));
    operator_page(&state, &visitor, &req, Some(Section::Key), outcome).await
}

#[derive(Deserialize)]
struct SuspensionForm {
    subject: Suspendable,
    /// Typed: anything but a number reads as no such id (404 beside the form).
    id: String,
    reason: String,
    action: OperatorAction,
}

#[post("/operator/suspensions")]
async fn suspension(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<SuspensionForm>,
) -> Result<HttpResponse, AppError> {
    or_show!(operator_or_page(&visitor, &req));
    let Some(operator) = visitor.user.as_ref() else { return Err(crate::auth::wrong_role()) };
    let w = People::of(visitor.lang);
    let id = form.id.trim().parse().unwrap_or(0);
    let reason = Some(form.reason.as_str());
    let outcome = rules::set_suspension(&state, operator.id, form.subject, id, form.action, reason).await.map(|done| {
        let said = if done.suspended_at.is_some() { w.suspended_now } else { w.reinstated_now };
        let kind = match form.subject {
            Suspendable::Helper => w.kind_helper,
            Suspendable::Team => w.kind_team,
            Suspendable::Partner => w.kind_partner,
            Suspendable::Farmer => w.kind_farmer,
        };
        (Some(format!("{said} {} ({} {})", kind.to_lowercase(), w.code, done.id)), None)
    });
    operator_page(&state, &visitor, &req, Some(Section::Suspension), outcome).await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(create_team)
        .service(create_helper)
        .service(create_partner)
        .service(create_key)
        .service(suspension);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_from_a_typed_list() {
        assert_eq!(codes("26734, 26737\n26740"), vec![26734, 26737, 26740]);
        assert_eq!(codes("  "), Vec::<i32>::new());
        assert_eq!(codes("26734, abc"), vec![26734, 0]);
    }
}
