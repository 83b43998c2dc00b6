//! What the pages' forms share: each invalid field's message to show beside it, and the commune a person
//! means when they type a few letters of it.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;

use crate::error::{AppError, Lang};
use crate::reference::places::WardSearch;
use crate::state::AppState;

/// A commune the person typing may mean.
pub struct WardChoice {
    pub code: i32,
    pub label: String,
}

/// The commune someone means (a buyer's delivery, a farmer's home): the one picked (`code`), else the only one
/// the typed words find; with several, the choices to pick from.
pub fn resolve_ward(state: &AppState, code: Option<&str>, text: &str) -> Result<i32, Vec<WardChoice>> {
    if let Some(code) = code.and_then(|c| c.parse::<i32>().ok())
        && state.reference.places.ward(code).is_some()
    {
        return Ok(code);
    }
    let terms = crate::domain::text::search_terms(text);
    if terms.is_empty() {
        return Err(Vec::new());
    }
    let places = &state.reference.places;
    let found = places.search_wards(&WardSearch { province: None, terms: &terms, limit: 8, offset: 0 });
    match found.as_slice() {
        [only] => Ok(only.code),
        several => Err(several
            .iter()
            .map(|ward| WardChoice {
                code: ward.code,
                label: format!("{}, {}", ward.name, places.province_place(ward.province_code).name),
            })
            .collect()),
    }
}

/// The plain message of each invalid field, in the visitor's language.
pub fn field_messages(error: &AppError, lang: Lang) -> BTreeMap<String, String> {
    error.errors.iter().map(|e| (e.field.clone(), e.message.get(lang).to_owned())).collect()
}

/// What a refusal says, in the visitor's language: its detail, then each field's message.
pub fn plain_words(error: &AppError, lang: Lang) -> String {
    let detail = error.detail.as_ref().map(|detail| detail.get(lang).to_owned());
    let fields = error.errors.iter().map(|e| e.message.get(lang).to_owned());
    detail.into_iter().chain(fields).collect::<Vec<_>>().join(" ")
}

/// How a page shows a refused form: the status to answer, each field's message to show beside it and, when
/// none is about a field, the refusal in plain words. An error that is not the visitor's stays an error.
pub struct Refusal {
    pub status: StatusCode,
    pub errors: BTreeMap<String, String>,
    pub said: Option<String>,
}

impl Refusal {
    pub fn of(error: AppError, lang: Lang) -> Result<Refusal, AppError> {
        if !error.kind.status().is_client_error() {
            return Err(error);
        }
        let errors = field_messages(&error, lang);
        let said = errors.is_empty().then(|| plain_words(&error, lang));
        Ok(Refusal { status: error.kind.status(), errors, said })
    }
}

/// How a page answers one of its forms: what was done, or the refusal to show beside the fields (or in plain
/// words when no field is named), with the status to answer.
pub struct Answer<T> {
    pub status: StatusCode,
    pub done: Option<T>,
    pub errors: BTreeMap<String, String>,
    pub refusal: Option<String>,
}

/// The answer to `outcome`: 201 when a form (`posted`) did something, 200 when the page was simply opened, the
/// refusal's own status for a 4xx; any other error is returned for the error page.
pub fn answer<T>(outcome: Result<T, AppError>, lang: Lang, posted: bool) -> Result<Answer<T>, AppError> {
    Ok(match outcome {
        Ok(done) => Answer {
            status: if posted { StatusCode::CREATED } else { StatusCode::OK },
            done: Some(done),
            errors: BTreeMap::new(),
            refusal: None,
        },
        Err(error) => {
            let refusal = Refusal::of(error, lang)?;
            Answer { status: refusal.status, done: None, errors: refusal.errors, refusal: refusal.said }
        }
    })
}
