//! A visitor of the web app over plain HTTP: keeps the cookies the pages set (session, CSRF, language,
//! basket), posts forms with the CSRF token as a page would, and does not follow redirects, so tests see
//! each 303 and where it leads.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// What a page request answered.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Where a redirect leads.
    pub location: Option<String>,
}

pub struct PageVisitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> PageVisitor<'a> {
    pub fn new(app: &'a TestApp) -> PageVisitor<'a> {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("page client");
        PageVisitor { app, client, cookies: BTreeMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    async fn answer(&mut self, response: reqwest::Response) -> Answer {
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().expect("cookie text");
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get(LOCATION).map(|v| v.to_str().expect("location").to_owned());
        Answer { status, location, body: response.text().await.expect("page body") }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(self.app.url(path)).header(COOKIE, self.cookie_header());
        let response = request.send().await.expect("page answers");
        self.answer(response).await
    }

    /// Posts a form with the visitor's CSRF token (open a page first, as a person would).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.cookies.get("ns_csrf").cloned().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", &token)];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = self
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        let response = request.send().await.expect("page answers");
        self.answer(response).await
    }

    /// Logs in with a password through `/login`, coming back to `back`.
    pub async fn log_in(&mut self, login: &str, password: &str, back: &str) {
        self.get(back).await;
        let answer = self.post("/login", &[("login", login), ("password", password), ("back", back)]).await;
        assert_eq!((answer.status, answer.location.as_deref()), (303, Some(back)), "{}", answer.body);
    }
}

/// The text of a page without its tags, spaces collapsed: what a person reads.
pub fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
