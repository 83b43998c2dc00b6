//! Logging in with a password (helpers and operators; farmers use their PIN on `/farmer`): the form
//! `/helper` and `/operator` show to a visitor not yet logged in, posted to `/login`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use askama::Template;
use serde::Deserialize;

use super::forms::plain_words;
use super::visitor::{Form, Visitor};
use super::words::people::People;
use super::{Frame, local_path, page_with_status, see_other};
use crate::accounts::rules::{open_session, password_login};
use crate::auth::rate_limit::client_address;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    w: &'static People,
    title: &'static str,
    back: String,
    login: String,
    refusal: Option<String>,
}

/// The password form, titled for the people of the page it guards, coming back to it once logged in.
pub fn login_page(
    visitor: &Visitor,
    req: &HttpRequest,
    title: &'static str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let page_ = LoginPage {
        frame: Frame::new(visitor, req),
        w: People::of(visitor.lang),
        title,
        back: req.path().to_owned(),
        login: String::new(),
        refusal: None,
    };
    page_with_status(visitor, &page_, status)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    back: Option<String>,
}

/// Checks the password as the API's `/auth/login` does (same lockouts), then keeps the API's session in
/// the session cookie.
#[post("/login")]
async fn log_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let back = local_path(form.back.as_deref());
    match password_login(&state, &form.login, form.password, &client_address(&req)).await {
        Ok((user_id, _)) => {
            let (token, _) = open_session(&state.db, user_id, state.clock.now()).await?;
            let mut response = see_other(&visitor, &back);
            visitor.log_in(&mut response, token);
            Ok(response.finish())
        }
        Err(error) if error.kind.status().is_client_error() => {
            let w = People::of(visitor.lang);
            let title = if back.starts_with("/operator") { w.operator_login_title } else { w.helper_login_title };
            let page_ = LoginPage {
                frame: Frame::new(&visitor, &req),
                w,
                title,
                back,
                login: form.login,
                refusal: Some(plain_words(&error, visitor.lang)),
            };
            let mut response = page_with_status(&visitor, &page_, error.kind.status())?;
            if let Some(seconds) = error.retry_after {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from(seconds));
            }
            Ok(response)
        }
        Err(error) => Err(error),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(log_in);
}
