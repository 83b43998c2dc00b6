//! A visitor of the web app over plain HTTP, as far as the pages care (the real browser is `browser::page`): it keeps cookies, sends forms with the CSRF token the pages carry (or
//! without it, to see it refused), follows no redirect on its own, and reads what a page shows.

use std::collections::BTreeMap;

use crate::helpers::{TestApp, random_suffix};

/// One answer: its status, where it sends the browser (303), and the page.
pub struct Shown {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
}

impl Shown {
    /// The values of every form field named `name` (hidden fields, inputs), in page order.
    pub fn values(&self, name: &str) -> Vec<String> {
        let needle = format!("name=\"{name}\" value=\"");
        self.html
            .match_indices(&needle)
            .map(|(at, _)| {
                let rest = &self.html[at + needle.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(0)])
            })
            .collect()
    }

    pub fn value(&self, name: &str) -> String {
        self.values(name).into_iter().next().unwrap_or_else(|| panic!("no field {name} in:\n{}", self.html))
    }

    /// The messages shown beside fields, in page order.
    pub fn field_errors(&self) -> Vec<String> {
        self.html
            .split("class=\"field-error\"")
            .skip(1)
            .map(|rest| {
                let text = &rest[rest.find('>').map_or(0, |at| at + 1)..];
                unescape(&text[..text.find("</p>").unwrap_or(0)])
            })
            .collect()
    }

    pub fn shows(&self, text: &str) -> bool {
        self.html.contains(text) || unescape(&self.html).contains(text)
    }

    pub fn assert_shows(&self, text: &str) {
        assert!(self.shows(text), "the page does not show {text:?}:\n{}", self.html);
    }
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub struct PageVisitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    accept_language: Option<&'static str>,
}

/// A form's fields; the CSRF token is added unless the form is sent without it.
pub type Fields<'f> = &'f [(&'f str, &'f str)];

impl<'a> PageVisitor<'a> {
    pub fn new(app: &'a TestApp) -> PageVisitor<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        PageVisitor { app, client, cookies: BTreeMap::new(), accept_language: None }
    }

    /// A browser already logged in with a session token (the API's tokens and the cookie's are the same).
    pub async fn with_session(app: &'a TestApp, token: &str) -> PageVisitor<'a> {
        let mut visitor = PageVisitor::new(app);
        visitor.cookies.insert("ns_session".into(), token.to_owned());
        visitor.get("/").await;
        visitor
    }

    /// A browser that asks for English pages.
    pub fn in_english(mut self) -> PageVisitor<'a> {
        self.accept_language = Some("en");
        self
    }

    pub fn csrf(&self) -> String {
        self.cookies.get("ns_csrf").cloned().expect("a page was seen first, so there is a CSRF cookie")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Shown {
        let cookie = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        let mut request = request.header("Cookie", cookie).header("Accept", "text/html");
        if let Some(lang) = self.accept_language {
            request = request.header("Accept-Language", lang);
        }
        let response = request.send().await.expect("sent");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().expect("cookie text");
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().expect("location").to_owned());
        Shown { status, location, html: response.text().await.expect("body") }
    }

    pub async fn get(&mut self, path: &str) -> Shown {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    /// Posts a form with the page's CSRF token.
    pub async fn post(&mut self, path: &str, fields: Fields<'_>) -> Shown {
        let csrf = self.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_without_csrf(path, &all).await
    }

    pub async fn post_without_csrf(&mut self, path: &str, fields: Fields<'_>) -> Shown {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request =
            self.client.post(self.app.url(path)).header("Content-Type", "application/x-www-form-urlencoded").body(body);
        self.send(request).await
    }

    /// Posts a multipart form (with a photo when given) and the page's CSRF token.
    pub async fn post_multipart(&mut self, path: &str, fields: Fields<'_>, photo: Option<&[u8]>) -> Shown {
        let csrf = self.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_multipart_without_csrf(path, &all, photo).await
    }

    pub async fn post_multipart_without_csrf(&mut self, path: &str, fields: Fields<'_>, photo: Option<&[u8]>) -> Shown {
        let (content_type, body) = multipart(fields, photo);
        let request = self.client.post(self.app.url(path)).header("Content-Type", content_type).body(body);
        self.send(request).await
    }
}

impl PageVisitor<'_> {
    /// Logs in with a password through `/login`, coming back to `back`.
    pub async fn log_in(&mut self, login: &str, password: &str, back: &str) {
        self.get(back).await;
        let answer = self.post("/login", &[("login", login), ("password", password), ("back", back)]).await;
        assert_eq!((answer.status, answer.location.as_deref()), (303, Some(back)), "{}", answer.html);
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
    unescape(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A multipart/form-data body: text fields, then the file field `photo` when given (empty, as a browser sends
/// a file input left alone, otherwise).
pub fn multipart(fields: Fields<'_>, photo: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = format!("nongsan{}", random_suffix());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    let file_name = if photo.is_some() { "photo.jpg" } else { "" };
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo.unwrap_or_default());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
