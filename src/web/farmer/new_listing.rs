//! Listing produce from the phone: a photo (the camera opens), a name, a price and a quantity, or one sentence
//! typed ("Xoài cát Hòa Lộc 35k/kg còn 200kg"); the kind, the unit and the weight are inferred by the API's
//! rules (`listings::selling`) and shown on a card confirmed with one tap. The listing is made once per form
//! key: the confirmation sent twice, or a listing queued offline and sent again, lists once. A listing queued
//! offline comes back with `queued` and is published as understood: the phone could not ask while it waited.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;

use super::{form_key, seat_or_door};
use crate::domain::money::format_vnd;
use crate::domain::quantity::Unit;
use crate::error::{AppError, Kind, Lang, Text};
use crate::listings::photos::{Parts, read_parts, store_photo};
use crate::listings::rules::{Given, NumberOrText, Resolved};
use crate::listings::selling::{self, Extras};
use crate::state::AppState;
use crate::web::forms::field_messages;
use crate::web::seat::Seat;
use crate::web::shop::Choice;
use crate::web::visitor::{CSRF_FIELD, Visitor, check_csrf};
use crate::web::words::farmer::Farmer;
use crate::web::{Frame, new_key, page_with_status, see_other};

/// What the listing form holds (and the confirmation carries, as understood).
#[derive(Default)]
struct NewForm {
    idempotency_key: String,
    title: String,
    price: String,
    quantity: String,
    sentence: String,
    /// The unit code, once understood (from the sentence, or confirmed).
    unit: String,
    category: String,
    /// A photo stored already (taken at the first step), and where it is shown.
    photo_id: String,
    photo_url: String,
}

impl NewForm {
    fn from_parts(parts: &Parts) -> NewForm {
        let field = |name| parts.field(name).unwrap_or_default().trim().to_owned();
        let photo_url = field("photo_url");
        NewForm {
            idempotency_key: field("idempotency_key"),
            title: field("title"),
            price: field("price"),
            quantity: field("quantity"),
            sentence: field("sentence"),
            unit: field("unit"),
            category: field("category"),
            photo_id: field("photo_id"),
            // Only a photo of this site is shown back.
            photo_url: if photo_url.starts_with("/media/") { photo_url } else { String::new() },
        }
    }

    fn photo_ids(&self) -> Vec<i64> {
        self.photo_id.parse().into_iter().collect()
    }
}

#[derive(Template)]
#[template(path = "farmer_new.html")]
struct FormPage {
    frame: Frame,
    w: &'static Farmer,
    farmer_id: i64,
    form: NewForm,
    errors: BTreeMap<String, String>,
    categories: Vec<Choice>,
}

/// The listing as understood, on the card the farmer confirms.
struct Card {
    title: String,
    price: String,
    category: String,
    unit: &'static str,
    stock: String,
    /// What one unit weighs, for units that do not say it themselves (quả, bó…: not kg).
    weight: Option<String>,
}

#[derive(Template)]
#[template(path = "farmer_confirm.html")]
struct ConfirmPage {
    frame: Frame,
    w: &'static Farmer,
    farmer_id: i64,
    form: NewForm,
    card: Card,
}

/// A weight as people say it: `400 g`, `2 kg`, `1,5 kg`.
fn weight_words(grams: i32) -> String {
    match grams {
        0..1000 => format!("{grams} g"),
        _ if grams % 1000 == 0 => format!("{} kg", grams / 1000),
        _ => format!("{:.1} kg", f64::from(grams) / 1000.0).replace('.', ","),
    }
}

/// Who lists, from which request: what every step answers with.
struct Desk<'a> {
    state: &'a web::Data<AppState>,
    req: &'a HttpRequest,
    visitor: &'a Visitor,
    seat: &'a Seat,
}

impl Desk<'_> {
    /// The form, with the errors beside its fields (422) or as first shown.
    fn form_page(&self, form: NewForm, errors: BTreeMap<String, String>) -> Result<HttpResponse, AppError> {
        let Desk { state, req, visitor, seat } = *self;
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        let categories = state
            .reference
            .categories
            .all()
            .iter()
            .map(|category| Choice {
                value: category.code.clone(),
                label: if visitor.lang == Lang::En { category.name_en.clone() } else { category.name_vi.clone() },
                chosen: category.code == form.category,
            })
            .collect();
        let w = Farmer::of(visitor.lang);
        let page_ =
            FormPage { frame: seat.frame(visitor, req), w, farmer_id: seat.farmer_id(), form, errors, categories };
        page_with_status(visitor, &page_, status)
    }
}

#[get("/farmer/listings/new")]
async fn new_page(state: web::Data<AppState>, req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, AppError> {
    match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => {
            let form = NewForm { idempotency_key: new_key(), ..NewForm::default() };
            let desk = Desk { state: &state, req: &req, visitor: &visitor, seat: &seat };
            desk.form_page(form, BTreeMap::new())
        }
        Err(door) => Ok(door),
    }
}

/// Fills the fields from the sentence when that is what the farmer wrote; what it does not say is explained
/// beside it (the kind of produce is asked for with the other fields).
fn read_sentence(state: &AppState, form: &mut NewForm, lang: Lang) -> Result<BTreeMap<String, String>, AppError> {
    let mut errors = BTreeMap::new();
    if !form.title.is_empty() || form.sentence.is_empty() {
        return Ok(errors);
    }
    let parsed = match selling::understand(&form.sentence, &state.reference, lang) {
        Ok(parsed) => parsed,
        Err(error) if error.kind == Kind::Unprocessable => {
            errors.extend(field_messages(&error, lang).into_values().map(|message| ("sentence".to_owned(), message)));
            return Ok(errors);
        }
        Err(error) => return Err(error),
    };
    form.title = parsed.title.unwrap_or_default();
    form.price = parsed.price_vnd.map(|price| price.to_string()).unwrap_or_default();
    form.quantity = parsed.quantity.map(|quantity| quantity.to_string()).unwrap_or_default();
    form.unit = parsed.unit.map(|unit| unit.as_str().to_owned()).unwrap_or_default();
    let said: Vec<String> =
        parsed.errors.into_iter().filter(|issue| issue.field != "category").map(|issue| issue.message).collect();
    if !said.is_empty() {
        errors.insert("sentence".to_owned(), said.join(" "));
    }
    Ok(errors)
}

/// The listing the form asks for, checked and inferred by the API's rules; or the errors beside each field.
fn understood(
    state: &AppState,
    form: &mut NewForm,
    lang: Lang,
) -> Result<Result<selling::NewListing, BTreeMap<String, String>>, AppError> {
    let errors = read_sentence(state, form, lang)?;
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let (price, quantity) = (NumberOrText::Text(form.price.clone()), NumberOrText::Text(form.quantity.clone()));
    let given = Given {
        title: &form.title,
        price: &price,
        quantity: &quantity,
        unit: Some(form.unit.as_str()).filter(|unit| !unit.is_empty()),
        category: Some(form.category.as_str()).filter(|category| !category.is_empty()),
        unit_weight: None,
    };
    let extras = Extras { photo_ids: form.photo_ids(), ..Extras::default() };
    match selling::check(&given, extras, &state.reference) {
        Ok(new) => Ok(Ok(new)),
        Err(error) if error.kind == Kind::Unprocessable => Ok(Err(field_messages(&error, lang))),
        Err(error) => Err(error),
    }
}

/// The card of a listing as understood; the form now carries exactly that.
fn card(state: &AppState, form: &mut NewForm, resolved: &Resolved, lang: Lang) -> Card {
    let unit = resolved.unit.name_vi();
    let category = state.reference.categories.get(&resolved.category_code);
    form.title.clone_from(&resolved.title);
    form.price = resolved.price_vnd.to_string();
    form.quantity = resolved.quantity.to_string();
    form.unit = resolved.unit.as_str().to_owned();
    form.category.clone_from(&resolved.category_code);
    form.sentence.clear();
    Card {
        title: resolved.title.clone(),
        price: format!("{}/{unit}", format_vnd(resolved.price_vnd)),
        category: category
            .map(|c| if lang == Lang::En { c.name_en.clone() } else { c.name_vi.clone() })
            .unwrap_or_default(),
        unit,
        stock: format!("{} {unit}", resolved.quantity),
        weight: resolved.unit.weight_g().is_none().then(|| weight_words(resolved.unit_weight_g)),
    }
}

impl Desk<'_> {
    /// The first step: the photo is stored (so it need not be taken again), then the listing is understood and
    /// shown to confirm, or the form comes back with what to correct.
    async fn check(&self, mut form: NewForm, photo: Option<Vec<u8>>) -> Result<HttpResponse, AppError> {
        let Desk { state, req, visitor, seat } = *self;
        let mut photo_errors = BTreeMap::new();
        if let Some(bytes) = photo {
            match store_photo(state, &seat.acting, bytes).await {
                Ok(stored) => {
                    form.photo_id = stored.id.to_string();
                    form.photo_url = stored.url;
                }
                Err(error) if error.kind != Kind::Internal && error.kind != Kind::Unavailable => {
                    let message = error.detail.as_ref().map(|d| d.get(visitor.lang).to_owned()).unwrap_or_default();
                    photo_errors.insert("photo".to_owned(), message);
                }
                Err(error) => return Err(error),
            }
        }
        match understood(state, &mut form, visitor.lang)? {
            Ok(new) if photo_errors.is_empty() => {
                let card = card(state, &mut form, &new.resolved, visitor.lang);
                let w = Farmer::of(visitor.lang);
                let page_ = ConfirmPage { frame: seat.frame(visitor, req), w, farmer_id: seat.farmer_id(), form, card };
                page_with_status(visitor, &page_, StatusCode::OK)
            }
            Ok(_) => self.form_page(form, photo_errors),
            Err(mut errors) => {
                errors.extend(photo_errors);
                self.form_page(form, errors)
            }
        }
    }

    /// Lists it: from the confirmation, or straight from the offline queue (with its photo, stored only when the
    /// key is new).
    async fn publish(&self, mut form: NewForm, photo: Option<Vec<u8>>) -> Result<HttpResponse, AppError> {
        let Desk { state, visitor, seat, .. } = *self;
        let key = form_key(&form.idempotency_key)?;
        let new = match understood(state, &mut form, visitor.lang)? {
            Ok(new) => new,
            Err(errors) => return self.form_page(form, errors),
        };
        match selling::create_once(state, &seat.acting, new, photo, key).await {
            Ok(listing) => Ok(see_other(visitor, &format!("/farmer/listings?listed={}", listing.id)).finish()),
            Err(error) if error.kind == Kind::Unprocessable => {
                let mut errors = field_messages(&error, visitor.lang);
                if let Some(message) = errors.remove("photo_ids") {
                    errors.insert("photo".to_owned(), message);
                }
                if errors.is_empty() {
                    let detail = error.detail.as_ref().map(|d| d.get(visitor.lang).to_owned()).unwrap_or_default();
                    errors.insert("title".to_owned(), detail);
                }
                self.form_page(form, errors)
            }
            Err(error) => Err(error),
        }
    }

    /// The form again, to change what was understood: the kind of produce is inferred again from the name unless
    /// the farmer had chosen it.
    fn edit(&self, mut form: NewForm) -> Result<HttpResponse, AppError> {
        let inferred = self.state.reference.categories.infer(&form.title).map(|category| category.code.as_str());
        if inferred == Some(form.category.as_str()) {
            form.category.clear();
        }
        if Unit::parse_code(&form.unit).is_none() {
            form.unit.clear();
        }
        self.form_page(form, BTreeMap::new())
    }
}

#[post("/farmer/listings/new")]
async fn post_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let parts = read_parts(Multipart::new(req.headers(), payload)).await?;
    check_csrf(&req, parts.field(CSRF_FIELD))?;
    let seat = match seat_or_door(&state, &req, &visitor).await? {
        Ok(seat) => seat,
        Err(door) => return Ok(door),
    };
    // A form made for one farmer is never sent for another (a helper who moved on to the next household
    // before the phone found the network).
    if parts.field("farmer").and_then(|id| id.parse::<i64>().ok()).is_some_and(|id| id != seat.farmer_id()) {
        return Err(AppError::new(
            Kind::Conflict,
            "other_farmer",
            Text::new(
                "Tin này được soạn cho một hộ khác. Hãy chọn lại hộ đó rồi đăng lại.",
                "This listing was made for another household. Act for that household again and list it there.",
            ),
        ));
    }
    let queued = parts.field("queued").is_some();
    let step = if queued { "publish" } else { parts.field("step").unwrap_or_default() };
    let form = NewForm::from_parts(&parts);
    let desk = Desk { state: &state, req: &req, visitor: &visitor, seat: &seat };
    match step {
        "publish" => desk.publish(form, parts.photo).await,
        "edit" => desk.edit(form),
        _ => desk.check(form, parts.photo).await,
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(new_page).service(post_new);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_as_people_say_them() {
        assert_eq!(weight_words(400), "400 g");
        assert_eq!(weight_words(2000), "2 kg");
        assert_eq!(weight_words(1500), "1,5 kg");
    }
}
