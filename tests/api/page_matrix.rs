//! The authorization matrix of the web app: every page route, visited by every kind of caller (their
//! session in the cookie a page sets; a partner's key is no session, so a partner visits as anyone does;
//! a helper carries the cookie that says which farmer they act for), with the status each must get. The
//! routes are read from the `#[get]`/`#[post]` attributes under `src/web/`, so a page missing from the
//! table fails the test. Every form is also posted without its CSRF token, and refused.

use std::collections::BTreeSet;
use std::path::Path;

use crate::authorization::{EVERYONE, HELPERS, Who, World, build_world};
use crate::helpers::{TestApp, WARD_BUON_MA_THUOT, fresh_phone};
use crate::on_both_backends;

const CSRF: &str = "0123456789abcdef0123456789abcdef";

/// The farmer's answer to an order: one route for accepting and declining.
const ANSWER_ROUTE: &str = "/farmer/orders/{id}/{answer:accept|reject}";

type Fields = fn(&World) -> Vec<(&'static str, String)>;

struct PageRow {
    method: &'static str,
    /// As written in the route's attribute.
    route: &'static str,
    path: String,
    form: Option<Fields>,
    /// Sent as multipart/form-data (a form with a photo field).
    multipart: bool,
    allowed: Vec<(Who, u16)>,
    /// Anonymous visitors (and partners): the log-in form of a guarded page is a 200.
    anonymous: u16,
    /// Logged-in callers not listed in `allowed`.
    others: u16,
    /// Text that only the allowed may see (an order's street): absent from every other answer.
    private: Option<&'static str>,
}

fn page(method: &'static str, route: &'static str, path: String) -> PageRow {
    PageRow {
        method,
        route,
        path,
        form: None,
        multipart: false,
        allowed: Vec::new(),
        anonymous: 200,
        others: 403,
        private: None,
    }
}

impl PageRow {
    /// Everyone, anonymous or not, gets `status`.
    fn public(mut self, status: u16) -> PageRow {
        self.anonymous = status;
        self.others = status;
        self
    }
    fn allow(mut self, whos: &[Who], status: u16) -> PageRow {
        self.allowed.retain(|(who, _)| !whos.contains(who));
        self.allowed.extend(whos.iter().map(|w| (*w, status)));
        self
    }
    fn form(mut self, fields: Fields) -> PageRow {
        self.form = Some(fields);
        self
    }
    fn multipart(mut self) -> PageRow {
        self.multipart = true;
        self
    }
    /// Each caller's status, in `EVERYONE`'s order.
    fn statuses(self, statuses: [u16; 9]) -> PageRow {
        EVERYONE.iter().zip(statuses).fold(self, |row, (who, status)| row.allow(&[*who], status))
    }
    /// A farmer page: anonymous visitors (and partner keys, which open no session) get the log-in page; the
    /// farmer, another farmer and the helper acting for the farmer get theirs; a helper of another team acting
    /// for the farmer 404, a revoked one 403; buyers and operators are refused.
    fn farmer_page(self, farmer: u16, other_farmer: u16, helper: u16) -> PageRow {
        self.statuses([200, farmer, other_farmer, helper, 404, 403, 403, 200, 403])
    }
    /// The same for a form: nobody logged in gets 401 (with the log-in page).
    fn farmer_form(self, farmer: u16, other_farmer: u16, helper: u16) -> PageRow {
        self.statuses([401, farmer, other_farmer, helper, 404, 403, 403, 401, 403])
    }
    fn private(mut self, text: &'static str) -> PageRow {
        self.private = Some(text);
        self
    }
    /// A helper's page about one household: the team's helper gets `status`, a helper elsewhere 404, the
    /// revoked helper 403.
    fn household(self, status: u16) -> PageRow {
        self.allow(&[Who::Helper], status).allow(&[Who::OtherHelper], 404).allow(&[Who::RevokedHelper], 403)
    }
    fn expected(&self, who: Who) -> u16 {
        match self.allowed.iter().find(|(w, _)| *w == who) {
            Some((_, status)) => *status,
            None if matches!(who, Who::Anonymous | Who::Partner) => self.anonymous,
            None => self.others,
        }
    }
}

fn matrix(world: &World) -> Vec<PageRow> {
    let code = &world.order_code;
    vec![
        page("GET", "/", "/?q=xoai".into()).public(200),
        page("GET", "/listings/{id}", format!("/listings/{}", world.listing_id)).public(200),
        page("GET", "/farmers/{id}", format!("/farmers/{}", world.farmer_id)).public(200),
        page("GET", "/static/{file}", nongsan::web::assets::path_of("app.css").to_owned()).public(200),
        page("GET", "/sw.js", "/sw.js".into()).public(200),
        page("GET", "/manifest.webmanifest", "/manifest.webmanifest".into()).public(200),
        page("GET", "/{icon:icon-(192|512)\\\\.png}", "/icon-192.png".into()).public(200),
        page("GET", "/lang/{lang}", "/lang/en?back=/basket".into()).public(303),
        page("GET", "/basket", "/basket".into()).public(200),
        page("POST", "/basket", "/basket".into())
            .form(|w| vec![("listing_id", w.listing_id.to_string()), ("action", "add".into())])
            .public(303),
        // No basket in these visits: back to the (empty) basket.
        page("GET", "/checkout", "/checkout".into()).public(303),
        page("POST", "/checkout", "/checkout".into()).form(|_| vec![("name", "Mai".into())]).public(303),
        page("GET", "/orders", "/orders".into()).public(200),
        // Anyone may ask for an order by its code; only its buyer sees it (others are asked for its phone).
        page("GET", "/orders/{code}", format!("/orders/{code}")).public(200).private("1 Lê Lợi"),
        page("GET", "/orders/{code}/qr.png", format!("/orders/{code}/qr.png")).public(404).allow(&[Who::Buyer], 200),
        page("POST", "/orders/look-up", "/orders/look-up".into())
            .form(|w| vec![("code", w.order_code.clone()), ("phone", "0900000000".into())])
            .public(404),
        page("POST", "/login", "/login".into())
            .form(|w| vec![("login", w.operator_email.clone()), ("password", "operator-password".into())])
            .public(303),
        page("GET", "/helper", "/helper".into()).allow(&HELPERS, 200),
        page("POST", "/helper/act/{farmer_id}", format!("/helper/act/{}", world.farmer_id)).household(303),
        page("POST", "/helper/stop", "/helper/stop".into()).public(303),
        page("GET", "/helper/enrol", "/helper/enrol".into()).allow(&HELPERS, 200),
        // The helper elsewhere may enrol, but not in this commune.
        page("POST", "/helper/enrol", "/helper/enrol".into())
            .form(|_| {
                vec![
                    ("name", "Hà".into()),
                    ("phone", fresh_phone()),
                    ("ward_code", WARD_BUON_MA_THUOT.to_string()),
                    ("pin", "582047".into()),
                    ("consent", "yes".into()),
                ]
            })
            .allow(&[Who::Helper, Who::RevokedHelper], 201)
            .allow(&[Who::OtherHelper], 422),
        // The spare farmer signed up alone and never consented: the team's helper is refused (issue 16).
        page(
            "GET",
            "/helper/farmers/{farmer_id}/pin-reset",
            format!("/helper/farmers/{}/pin-reset", world.spare_farmer_id),
        )
        .household(403),
        page(
            "POST",
            "/helper/farmers/{farmer_id}/pin-reset",
            format!("/helper/farmers/{}/pin-reset", world.spare_farmer_id),
        )
        .form(|_| vec![("new_pin", "639251".into()), ("identity_checked", "yes".into())])
        .household(403),
        page("GET", "/operator", "/operator".into()).allow(&[Who::Operator], 200),
        page("GET", "/operator/report", "/operator/report?group=ward".into()).allow(&[Who::Operator], 200),
        page("GET", "/operator/report.csv", "/operator/report.csv?group=month".into()).allow(&[Who::Operator], 200),
        page("POST", "/operator/teams", "/operator/teams".into())
            .form(|_| vec![("name", "Tổ mới".into()), ("ward_codes", WARD_BUON_MA_THUOT.to_string())])
            .allow(&[Who::Operator], 201),
        page("POST", "/operator/helpers", "/operator/helpers".into())
            .form(|w| {
                vec![
                    ("team_id", w.team_id.to_string()),
                    ("name", "Cán bộ".into()),
                    ("phone", fresh_phone()),
                    ("email", String::new()),
                    ("password", "helper-password".into()),
                ]
            })
            .allow(&[Who::Operator], 201),
        page("POST", "/operator/partners", "/operator/partners".into())
            .form(|_| vec![("name", "Viettel Post".into()), ("province", "1".into())])
            .allow(&[Who::Operator], 201),
        page("POST", "/operator/keys", "/operator/keys".into())
            .form(|w| vec![("partner_id", w.partner_id.to_string())])
            .allow(&[Who::Operator], 201),
        page("POST", "/operator/suspensions", "/operator/suspensions".into())
            .form(|w| {
                vec![
                    ("subject", "partner".into()),
                    ("id", w.spare_partner_id.to_string()),
                    ("reason", String::new()),
                    ("action", "reinstate".into()),
                ]
            })
            .allow(&[Who::Operator], 201),
        page("GET", "/operator/payments", "/operator/payments".into()).allow(&[Who::Operator], 200),
        // The world's open payment exception, closed by the operator.
        page(
            "POST",
            "/operator/payments/{id}/resolve",
            format!("/operator/payments/{}/resolve", world.payment_exception_id),
        )
        .form(|_| vec![("action", "ignore".into()), ("order_code", String::new()), ("note", "Tiền ủng hộ".into())])
        .allow(&[Who::Operator], 201),
        page("GET", "/operator/orders", "/operator/orders?q=0912345678".into()).allow(&[Who::Operator], 200),
        page("GET", "/operator/orders/{code}", format!("/operator/orders/{code}")).allow(&[Who::Operator], 200),
        page("GET", "/operator/listings/{id}", format!("/operator/listings/{}", world.listing_id))
            .allow(&[Who::Operator], 200),
        // Hidden, then shown again: the listing is on sale for the rows below.
        page("POST", "/operator/listings/{id}/hide", format!("/operator/listings/{}/hide", world.listing_id))
            .form(|_| vec![("reason", "Thử quyền".into())])
            .allow(&[Who::Operator], 200),
        page("POST", "/operator/listings/{id}/unhide", format!("/operator/listings/{}/unhide", world.listing_id))
            .allow(&[Who::Operator], 200),
        page("GET", "/farmer", "/farmer".into()).farmer_page(200, 200, 200),
        page("GET", "/farmer/signup", "/farmer/signup".into()).statuses([200, 303, 303, 303, 404, 403, 403, 200, 403]),
        page("GET", "/farmer/listings/new", "/farmer/listings/new".into()).farmer_page(200, 200, 200),
        page("GET", "/farmer/listings", "/farmer/listings".into()).farmer_page(200, 200, 200),
        page("GET", "/farmer/money", "/farmer/money".into()).farmer_page(200, 200, 200),
        page("GET", "/farmer/statements", "/farmer/statements?month=2026-11".into()).farmer_page(200, 200, 200),
        page(
            "GET",
            "/operator/farmers/{id}/statements",
            format!("/operator/farmers/{}/statements?month=2026-11", world.farmer_id),
        )
        .allow(&[Who::Operator], 200),
        // Who acted for the farmer is the farmer's own business (the API's FarmerSelf).
        page("GET", "/farmer/helpers", "/farmer/helpers".into()).farmer_page(200, 200, 403),
        // So are their messages and how they are told.
        page("GET", "/farmer/messages", "/farmer/messages".into()).farmer_page(200, 200, 403),
        page("POST", "/farmer/messages/how", "/farmer/messages/how".into())
            .form(|_| vec![("texts", "1".into()), ("zalo", "1".into()), ("email", "1".into())])
            .farmer_form(303, 303, 403),
        page("POST", "/farmer/login", "/farmer/login".into())
            .form(|w| vec![("phone", w.farmer_phone.clone()), ("pin", "482915".into())])
            .public(303),
        page("POST", "/farmer/signup", "/farmer/signup".into())
            .form(|_| {
                vec![
                    ("name", "Hà".into()),
                    ("phone", fresh_phone()),
                    ("ward_code", WARD_BUON_MA_THUOT.to_string()),
                    ("ward_text", "Buôn Ma Thuột".into()),
                    ("pin", "582047".into()),
                ]
            })
            .public(303),
        page("POST", "/farmer/listings/new", "/farmer/listings/new".into())
            .form(|_| {
                vec![
                    ("title", "Gạo ST25".into()),
                    ("price", "30000".into()),
                    ("quantity", "100".into()),
                    ("step", "check".into()),
                ]
            })
            .multipart()
            .farmer_form(200, 200, 200),
        // Another farmer's listing exists but is not theirs: 404.
        page("POST", "/farmer/listings/{id}", format!("/farmer/listings/{}", world.listing_id))
            .form(|_| vec![("price", "26000".into()), ("quantity", "150".into()), ("action", "save".into())])
            .farmer_form(303, 404, 303),
        // The farmer answers first; the helper, acting for the same farmer after that, finds it answered.
        page("POST", ANSWER_ROUTE, format!("/farmer/orders/{}/accept", world.shipment_id)).farmer_form(303, 404, 409),
        page("POST", ANSWER_ROUTE, format!("/farmer/orders/{}/reject", world.shipment_id))
            .form(|_| vec![("reason", "out_of_stock".into())])
            .farmer_form(303, 404, 409),
        // Last of the order's rows: it cancels the order.
        page("POST", "/orders/{code}/cancel", format!("/orders/{code}/cancel")).public(404).allow(&[Who::Buyer], 303),
        page("POST", "/farmer/helpers/{id}/revoke", format!("/farmer/helpers/{}/revoke", world.other_helper_id))
            .farmer_form(303, 303, 403),
        // The farmer's consent to the other team: another farmer finds no such consent of theirs.
        page("POST", "/farmer/consents/{id}/withdraw", format!("/farmer/consents/{}/withdraw", world.spare_consent_id))
            .farmer_form(303, 404, 403),
        // Last: it ends the sessions the rows above use.
        page("POST", "/logout", "/logout".into()).public(200),
    ]
}

/// (METHOD, route) of every `#[get("…")]` and `#[post("…")]` under `src/web/`.
fn page_routes(dir: &Path) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("src/web readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            routes.extend(page_routes(&path));
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source readable");
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let route = rest.rsplit_once("\")]").expect("route attribute").0;
                    routes.insert((method.to_uppercase(), route.to_owned()));
                }
            }
        }
    }
    routes
}

fn cookies(world: &World, who: Who) -> String {
    let mut cookies = vec![format!("ns_csrf={CSRF}")];
    if let Some(token) = world.token(who).filter(|_| who != Who::Partner) {
        cookies.push(format!("ns_session={token}"));
    }
    if HELPERS.contains(&who) {
        cookies.push(format!("ns_acting={}", world.farmer_id));
    }
    cookies.join("; ")
}

async fn visit(app: &TestApp, row: &PageRow, world: &World, who: Who, csrf: bool) -> (u16, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let url = app.url(&row.path);
    let request = match row.method {
        "GET" => client.get(url),
        _ => {
            let mut fields: Vec<(&str, String)> = row.form.map(|form| form(world)).unwrap_or_default();
            if csrf {
                fields.push(("csrf_token", CSRF.to_owned()));
            }
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
            if row.multipart {
                let (content_type, body) = crate::pages::multipart(&pairs, None);
                client.post(url).header("Content-Type", content_type).body(body)
            } else {
                let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
                client.post(url).header("Content-Type", "application/x-www-form-urlencoded").body(body)
            }
        }
    };
    let response =
        request.header("Cookie", cookies(world, who)).header("Accept", "text/html").send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

on_both_backends! {
    every_page_answers_every_visitor_as_the_matrix_says(app) {
        let world = build_world(&app).await;
        let rows = matrix(&world);
        let served = page_routes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"));
        let covered: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_owned(), r.route.to_owned())).collect();
        assert_eq!(served, covered, "the page matrix must list exactly the pages the app serves");

        let mut failures = Vec::new();
        for row in &rows {
            for who in EVERYONE.into_iter().filter(|_| row.method == "POST") {
                let (status, _) = visit(&app, row, &world, who, false).await;
                if status != 403 {
                    failures.push(format!("POST {} as {who:?} without its CSRF token: {status}, expected 403", row.path));
                }
            }
            for who in EVERYONE {
                let (status, body) = visit(&app, row, &world, who, true).await;
                let expected = row.expected(who);
                if status != expected {
                    failures.push(format!("{} {} as {who:?}: {status}, expected {expected}", row.method, row.path));
                }
                if let Some(private) = row.private.filter(|p| who != Who::Buyer && body.contains(p)) {
                    failures.push(format!("{} {} as {who:?} shows “{private}”", row.method, row.path));
                }
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
