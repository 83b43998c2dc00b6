//! The authorization matrix: every route of the service, called by every kind of caller, with the status
//! each must get. A route missing from the table fails the test, so the table grows with the service.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Farmer, TestApp, WARD_BUON_MA_THUOT, WARD_DA_LAT, fresh_phone, photo_form, random_suffix};
use crate::on_both_backends;
use nongsan::media::sample;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    Farmer,
    OtherFarmer,
    /// Helper of the farmer's commune's team, acting for the farmer.
    Helper,
    /// Helper of a team elsewhere, trying to act for the farmer.
    OtherHelper,
    /// Helper of the farmer's team whom the farmer revoked.
    RevokedHelper,
    Buyer,
    Partner,
    Operator,
}

pub const EVERYONE: [Who; 9] = [
    Who::Anonymous,
    Who::Farmer,
    Who::OtherFarmer,
    Who::Helper,
    Who::OtherHelper,
    Who::RevokedHelper,
    Who::Buyer,
    Who::Partner,
    Who::Operator,
];

/// Everything the matrix needs to exist before it runs.
pub struct World {
    pub farmer_id: i64,
    pub order_code: String,
    pub shipment_id: i64,
    pub listing_id: i64,
    pub photo_path: String,
    pub spare_farmer_id: i64,
    /// The farmer's consent to the other team (which cannot act for them anyway): the one rows revoke.
    pub spare_consent_id: i64,
    pub other_helper_id: i64,
    pub team_id: i64,
    pub partner_id: i64,
    pub spare_key_id: i64,
    /// A partner nobody else uses, for an operator to suspend.
    pub spare_partner_id: i64,
    pub job_id: i64,
    pub refund_id: i64,
    pub discrepancy_id: i64,
    /// A bank transfer that named no order: an open payment exception.
    pub payment_exception_id: i64,
    pub operator_email: String,
    pub farmer_phone: String,
    pub tokens: Vec<(Who, String)>,
}

impl World {
    pub fn token(&self, who: Who) -> Option<&str> {
        self.tokens.iter().find(|(w, _)| *w == who).map(|(_, t)| t.as_str())
    }
}

pub async fn build_world(app: &TestApp) -> World {
    let operator = app.operator_token().await;
    let farmer = app.farmer(WARD_BUON_MA_THUOT).await;
    let spare = app.farmer(WARD_BUON_MA_THUOT).await;
    let other_farmer = app.farmer(WARD_DA_LAT).await;
    let (team_id, _, helper) = app.team_with_helper(&operator, &[WARD_BUON_MA_THUOT]).await;
    let (revoked_id, revoked) = app.helper_in(&operator, team_id).await;
    let (other_team_id, other_helper_id, other_helper) = app.team_with_helper(&operator, &[WARD_DA_LAT]).await;
    for farmer_token in [&farmer.token, &spare.token] {
        let revoke = app
            .request("DELETE", &format!("/api/v1/me/helpers/{revoked_id}"), Some(farmer_token))
            .send()
            .await
            .expect("sent");
        assert_eq!(revoke.status(), 204);
    }
    // The farmer lets the team act for them (after revoking one of its helpers, who stays revoked); the spare
    // farmer, who signed up alone, never does.
    app.consent(&farmer.token, team_id).await;
    let spare_consent_id = app.consent(&farmer.token, other_team_id).await["id"].as_i64().expect("consent id");
    let buyer_email = format!("buyer-{}@example.vn", random_suffix());
    let buyer = json!({"name": "Lê Mai", "email": buyer_email, "password": "buyer-password"});
    let buyer = TestApp::expect_json(app.post("/api/v1/buyers", None, &buyer).await, 201).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (partner_id, _, key) = app.partner(&operator, &[66]).await;
    let (spare_key_id, _) = app.new_key(&operator, partner_id).await;
    let (spare_partner_id, _, _) = app.partner(&operator, &[1]).await;
    let discrepancy_id = cod_discrepancy(app, &key, &operator).await;
    app.open_jobs(1).await;
    let open =
        TestApp::expect_json(app.request("GET", "/api/v1/partner/jobs", Some(&key)).send().await.expect("sent"), 200)
            .await;
    let job_id = open["jobs"][0]["id"].as_i64().expect("open job");
    let photo =
        TestApp::expect_json(app.upload(&farmer.token, &sample::demo_photo(64, 48, 1), "p.jpg").await, 201).await;
    let listing = app.listing(&farmer.token, "Xoài cát Hòa Lộc", "25k", "2 tạ").await;
    // The other farmer's line keeps the order going after the farmer rejects theirs, so the buyer can cancel.
    let other_listing = app.listing(&other_farmer.token, "Dâu tây Đà Lạt", "150k", "20 kg").await;
    let buyer_order = json!({
        "items": [{"listing_id": listing["id"], "quantity": 1}, {"listing_id": other_listing["id"], "quantity": 1}],
        "buyer": {"name": "Lê Mai", "phone": fresh_phone()},
        "address": {"ward_code": WARD_DA_LAT, "street": "1 Lê Lợi"},
        "payment_method": "bank_transfer",
    });
    let placed = TestApp::expect_json(app.place_order(Some(&buyer), &random_suffix(), &buyer_order).await, 201).await;
    let shipment_id = placed["shipments"]
        .as_array()
        .expect("shipments")
        .iter()
        .find(|s| s["farmer"]["id"] == farmer.id)
        .and_then(|s| s["id"].as_i64())
        .expect("the farmer's shipment");
    let refund_id = refund_owed(app, &farmer, &operator).await;
    let payment_exception_id = payment_exception(app, &operator).await;
    let operator_email =
        TestApp::expect_json(app.request("GET", "/api/v1/me", Some(&operator)).send().await.expect("sent"), 200).await
            ["email"]
            .as_str()
            .expect("email")
            .to_owned();
    World {
        farmer_id: farmer.id,
        order_code: placed["code"].as_str().expect("code").to_owned(),
        shipment_id,
        listing_id: listing["id"].as_i64().expect("listing id"),
        photo_path: photo["thumb_url"].as_str().expect("thumb url").to_owned(),
        spare_farmer_id: spare.id,
        spare_consent_id,
        other_helper_id,
        team_id,
        partner_id,
        spare_key_id,
        spare_partner_id,
        job_id,
        refund_id,
        discrepancy_id,
        payment_exception_id,
        operator_email,
        farmer_phone: farmer.phone,
        tokens: vec![
            (Who::Farmer, farmer.token),
            (Who::OtherFarmer, other_farmer.token),
            (Who::Helper, helper),
            (Who::OtherHelper, other_helper),
            (Who::RevokedHelper, revoked),
            (Who::Buyer, buyer),
            (Who::Partner, key),
            (Who::Operator, operator),
        ],
    }
}

/// A paid transfer order whose farmer then rejects it: a refund owed to its buyer. Its id.
async fn refund_owed(app: &TestApp, farmer: &Farmer, operator: &str) -> i64 {
    let order = app.transfer_order(farmer).await;
    app.mark_paid(operator, &order).await;
    let reject = format!("/api/v1/shipments/{}/reject", order["shipments"][0]["id"]);
    assert_eq!(app.post(&reject, Some(&farmer.token), &json!({"reason": "Hết hàng"})).await.status(), 204);
    let owed = app.request("GET", "/api/v1/admin/refunds", Some(operator)).send().await.expect("sent");
    TestApp::expect_json(owed, 200).await["items"][0]["id"].as_i64().expect("refund id")
}

/// A transfer whose memo names no order: an open payment exception. Its id.
async fn payment_exception(app: &TestApp, operator: &str) -> i64 {
    assert_eq!(app.bank_transfer(1, "ung ho nong dan", 50_000).await.status(), 200);
    let open = app.request("GET", "/api/v1/admin/payments/exceptions", Some(operator)).send().await.expect("sent");
    TestApp::expect_json(open, 200).await["items"][0]["id"].as_i64().expect("exception id")
}

/// A COD job of its own delivered 5,000 VND short, with a reason: an open discrepancy. Its id.
async fn cod_discrepancy(app: &TestApp, key: &str, operator: &str) -> i64 {
    app.open_jobs(1).await;
    let job = app.claim(key, 1, 600).await.remove(0);
    let (id, lease) = (job["id"].as_i64().expect("id"), job["lease"]["lease_id"].clone());
    let picked = json!({"event_id": "x1", "status": "picked_up", "occurred_at": chrono::Utc::now(), "lease_id": lease});
    assert_eq!(app.job_event(key, id, &picked).await.status(), 200);
    let short = job["cod_vnd"].as_i64().expect("cod") - 5_000;
    let delivered = json!({"event_id": "x2", "status": "delivered", "occurred_at": chrono::Utc::now(),
        "cod_collected_vnd": short, "cod_shortfall_reason": "Khách trả thiếu"});
    assert_eq!(app.job_event(key, id, &delivered).await.status(), 200);
    let cod = app.request("GET", "/api/v1/admin/cod", Some(operator)).send().await.expect("sent");
    TestApp::expect_json(cod, 200).await["discrepancies"][0]["id"].as_i64().expect("discrepancy id")
}

/// One route: how to call it, and which callers get which status (everyone else: `others`).
struct Row {
    method: &'static str,
    /// As documented in the OpenAPI document.
    route: &'static str,
    path: String,
    body: Option<fn(&World) -> Value>,
    /// Sends a small photo as multipart/form-data instead of a JSON body.
    photo: bool,
    /// Sends a fresh `Idempotency-Key`.
    idempotent: bool,
    /// Helpers send `X-On-Behalf-Of: <farmer>` (farmer endpoints).
    on_behalf: bool,
    allowed: Vec<(Who, u16)>,
    /// Status of authenticated callers not listed in `allowed` (anonymous callers get 401 unless listed).
    others: u16,
}

fn row(method: &'static str, route: &'static str, path: String) -> Row {
    Row {
        method,
        route,
        path,
        body: None,
        photo: false,
        idempotent: false,
        on_behalf: false,
        allowed: Vec::new(),
        others: 403,
    }
}

impl Row {
    fn body(mut self, body: fn(&World) -> Value) -> Row {
        self.body = Some(body);
        self
    }
    fn idempotent(mut self) -> Row {
        self.idempotent = true;
        self
    }
    fn photo(mut self) -> Row {
        self.photo = true;
        self
    }
    /// A farmer endpoint (`ActingFarmer`): farmers for themselves and helpers of their team get `status`.
    fn acting_farmer(self, status: u16) -> Row {
        self.on_behalf()
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Helper], status)
            .allow(&[Who::OtherHelper], 404)
            .allow(&[Who::RevokedHelper], 403)
    }
    fn on_behalf(mut self) -> Row {
        self.on_behalf = true;
        self
    }
    /// Later calls override earlier ones for the same caller.
    fn allow(mut self, whos: &[Who], status: u16) -> Row {
        self.allowed.retain(|(who, _)| !whos.contains(who));
        self.allowed.extend(whos.iter().map(|w| (*w, status)));
        self
    }
    /// A public route: every caller, anonymous included, gets `status`.
    fn public(self, status: u16) -> Row {
        self.allow(&EVERYONE, status)
    }
    fn expected(&self, who: Who) -> u16 {
        match self.allowed.iter().find(|(w, _)| *w == who) {
            Some((_, status)) => *status,
            None if who == Who::Anonymous => 401,
            None => self.others,
        }
    }
}

pub const HELPERS: [Who; 3] = [Who::Helper, Who::OtherHelper, Who::RevokedHelper];
const USERS: [Who; 7] =
    [Who::Farmer, Who::OtherFarmer, Who::Helper, Who::OtherHelper, Who::RevokedHelper, Who::Buyer, Who::Operator];

fn matrix(world: &World) -> Vec<Row> {
    let farmer_route_statuses = |row: Row| {
        row.on_behalf()
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Helper, Who::Buyer, Who::Operator], 200)
            .allow(&[Who::OtherHelper], 404)
            .allow(&[Who::RevokedHelper], 403)
    };
    vec![
        row("GET", "/healthz", "/healthz".into()).public(200),
        row("GET", "/readyz", "/readyz".into()).public(200),
        row("GET", "/metrics", "/metrics".into()).public(200),
        row("GET", "/openapi.json", "/openapi.json".into()).public(200),
        row("GET", "/api/v1/provinces", "/api/v1/provinces".into()).public(200),
        row("GET", "/api/v1/provinces/{code}/wards", "/api/v1/provinces/66/wards".into()).public(200),
        row("GET", "/api/v1/wards", "/api/v1/wards?q=hoa".into()).public(200),
        row("GET", "/api/v1/categories", "/api/v1/categories".into()).public(200),
        row("POST", "/api/v1/farmers", "/api/v1/farmers".into())
            .body(|_| json!({"phone": fresh_phone(), "name": "Hà", "ward_code": WARD_DA_LAT, "pin": "582047"}))
            .public(201),
        row("POST", "/api/v1/auth/pin-login", "/api/v1/auth/pin-login".into())
            .body(|w| json!({"phone": w.farmer_phone, "pin": "482915"}))
            .public(200),
        row("POST", "/api/v1/buyers", "/api/v1/buyers".into())
            .body(|_| json!({"name": "Mai", "email": format!("b-{}@example.vn", random_suffix()), "password": "buyer-password"}))
            .public(201),
        row("POST", "/api/v1/auth/login", "/api/v1/auth/login".into())
            .body(|w| json!({"login": w.operator_email, "password": "operator-password"}))
            .public(200),
        farmer_route_statuses(row("GET", "/api/v1/me", "/api/v1/me".into())),
        farmer_route_statuses(row("PATCH", "/api/v1/me", "/api/v1/me".into()).body(|_| json!({"name": "Tên mới"}))),
        row("POST", "/api/v1/me/pin", "/api/v1/me/pin".into())
            .body(|_| json!({"current_pin": "000001", "new_pin": "639251"}))
            .allow(&[Who::Farmer, Who::OtherFarmer], 422),
        row("POST", "/api/v1/me/password", "/api/v1/me/password".into())
            .body(|_| json!({"current_password": "not-the-password", "new_password": "new-password"}))
            .allow(&[Who::Helper, Who::OtherHelper, Who::RevokedHelper, Who::Buyer, Who::Operator], 422),
        row("GET", "/api/v1/me/audit", "/api/v1/me/audit".into()).on_behalf().allow(&[Who::Farmer, Who::OtherFarmer], 200),
        row("DELETE", "/api/v1/me/helpers/{helper_id}", format!("/api/v1/me/helpers/{}", world.other_helper_id))
            .on_behalf()
            .allow(&[Who::Farmer, Who::OtherFarmer], 204),
        row("POST", "/api/v1/helper/farmers", "/api/v1/helper/farmers".into())
            .body(|_| json!({"phone": fresh_phone(), "name": "Hà", "ward_code": WARD_BUON_MA_THUOT, "pin": "582047", "consent": true}))
            .allow(&[Who::Helper, Who::RevokedHelper], 201)
            .allow(&[Who::OtherHelper], 422),
        row("GET", "/api/v1/helper/farmers", "/api/v1/helper/farmers".into()).allow(&HELPERS, 200),
        // The spare farmer signed up alone and never consented: the team's helpers are refused (issue 16).
        row("POST", "/api/v1/helper/farmers/{id}/pin-reset", format!("/api/v1/helper/farmers/{}/pin-reset", world.spare_farmer_id))
            .body(|_| json!({"new_pin": "639251", "identity_checked": true}))
            .allow(&[Who::Helper, Who::RevokedHelper], 403)
            .allow(&[Who::OtherHelper], 404),
        // A wrong PIN typed on the helper's phone (a right one would replace the farmer's consent).
        row("POST", "/api/v1/helper/farmers/{id}/consents", format!("/api/v1/helper/farmers/{}/consents", world.spare_farmer_id))
            .body(|_| json!({"pin": "000001", "purposes": ["list_produce"]}))
            .allow(&[Who::Helper], 422)
            .allow(&[Who::RevokedHelper], 403)
            .allow(&[Who::OtherHelper], 404),
        row("POST", "/api/v1/me/consents", "/api/v1/me/consents".into())
            .body(|w| json!({"team_id": w.team_id, "purposes": ["list_produce", "answer_orders", "reset_pin"]}))
            .on_behalf()
            .allow(&[Who::Farmer, Who::OtherFarmer], 201),
        row("GET", "/api/v1/me/consents", "/api/v1/me/consents".into()).on_behalf().allow(&[Who::Farmer, Who::OtherFarmer], 200),
        // The farmer's consent to the other team: another farmer finds no such consent of theirs.
        row("DELETE", "/api/v1/me/consents/{id}", format!("/api/v1/me/consents/{}", world.spare_consent_id))
            .on_behalf()
            .allow(&[Who::Farmer], 204)
            .allow(&[Who::OtherFarmer], 404),
        row("POST", "/api/v1/admin/teams", "/api/v1/admin/teams".into())
            .body(|_| json!({"name": "Tổ mới", "ward_codes": [WARD_DA_LAT]}))
            .allow(&[Who::Operator], 201),
        row("POST", "/api/v1/admin/teams/{id}/helpers", format!("/api/v1/admin/teams/{}/helpers", world.team_id))
            .body(|_| json!({"name": "Cán bộ", "email": format!("h-{}@nongsan.test", random_suffix()), "password": "helper-password"}))
            .allow(&[Who::Operator], 201),
        row("POST", "/api/v1/admin/partners", "/api/v1/admin/partners".into())
            .body(|_| json!({"name": "Viettel Post", "province_codes": [1]}))
            .allow(&[Who::Operator], 201),
        row("POST", "/api/v1/admin/partners/{id}/keys", format!("/api/v1/admin/partners/{}/keys", world.partner_id))
            .allow(&[Who::Operator], 201),
        row(
            "DELETE",
            "/api/v1/admin/partners/{id}/keys/{key_id}",
            format!("/api/v1/admin/partners/{}/keys/{}", world.partner_id, world.spare_key_id),
        )
        .allow(&[Who::Operator], 204),
        row("PUT", "/api/v1/admin/suspensions/{subject}/{id}", format!("/api/v1/admin/suspensions/partner/{}", world.spare_partner_id))
            .body(|_| json!({"reason": "Thử quyền"}))
            .allow(&[Who::Operator], 200),
        row("DELETE", "/api/v1/admin/suspensions/{subject}/{id}", format!("/api/v1/admin/suspensions/partner/{}", world.spare_partner_id))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/audit", "/api/v1/admin/audit".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/orders", "/api/v1/admin/orders?phone=0912345678".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/orders/{code}", format!("/api/v1/admin/orders/{}", world.order_code))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/farmers", "/api/v1/admin/farmers?province=66".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/farmers/{id}", format!("/api/v1/admin/farmers/{}", world.farmer_id))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/helpers", "/api/v1/admin/helpers".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/teams", "/api/v1/admin/teams".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/partners", "/api/v1/admin/partners".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/listings", "/api/v1/admin/listings?q=xoai".into()).allow(&[Who::Operator], 200),
        // Hidden, then shown again: the listing is on sale for the rows below.
        row("POST", "/api/v1/admin/listings/{id}/hide", format!("/api/v1/admin/listings/{}/hide", world.listing_id))
            .body(|_| json!({"reason": "Thử quyền"}))
            .allow(&[Who::Operator], 200),
        row("POST", "/api/v1/admin/listings/{id}/unhide", format!("/api/v1/admin/listings/{}/unhide", world.listing_id))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/helper-audit", "/api/v1/admin/helper-audit".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/reports/impact", "/api/v1/admin/reports/impact?group=ward".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/reports/impact", "/api/v1/admin/reports/impact?format=csv".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/partner/me", "/api/v1/partner/me".into()).allow(&[Who::Partner], 200),
        row("PUT", "/api/v1/partner/webhook", "/api/v1/partner/webhook".into())
            .body(|_| json!({"url": "http://127.0.0.1:9/nongsan", "secret": "whsec-matrix-0123456789"}))
            .allow(&[Who::Partner], 200),
        row("DELETE", "/api/v1/partner/webhook", "/api/v1/partner/webhook".into()).allow(&[Who::Partner], 204),
        row("GET", "/api/v1/partner/jobs", "/api/v1/partner/jobs".into()).allow(&[Who::Partner], 200),
        row("POST", "/api/v1/partner/jobs/claim", "/api/v1/partner/jobs/claim".into())
            .body(|_| json!({"limit": 1, "lease_seconds": 60}))
            .allow(&[Who::Partner], 200),
        row("GET", "/api/v1/partner/jobs/{id}", format!("/api/v1/partner/jobs/{}", world.job_id)).allow(&[Who::Partner], 200),
        // A lease nobody was given, and an event on a job without a pickup lease: refused, but only to the partner.
        row("POST", "/api/v1/partner/jobs/{id}/extend", format!("/api/v1/partner/jobs/{}/extend", world.job_id))
            .body(|_| json!({"lease_id": "lse_0", "lease_seconds": 60}))
            .allow(&[Who::Partner], 409),
        row("POST", "/api/v1/partner/jobs/{id}/release", format!("/api/v1/partner/jobs/{}/release", world.job_id))
            .body(|_| json!({"lease_id": "lse_0"}))
            .allow(&[Who::Partner], 409),
        row("POST", "/api/v1/partner/jobs/{id}/events", format!("/api/v1/partner/jobs/{}/events", world.job_id))
            .body(|_| json!({"event_id": "m1", "status": "picked_up", "occurred_at": "2026-11-23T08:00:00Z", "lease_id": "lse_0"}))
            .allow(&[Who::Partner], 409),
        row("GET", "/api/v1/admin/jobs/flagged", "/api/v1/admin/jobs/flagged".into()).allow(&[Who::Operator], 200),
        row("GET", "/api/v1/partner/cod", "/api/v1/partner/cod".into()).allow(&[Who::Partner], 200),
        // The world's job is not delivered: refused, but only to the partner.
        row("POST", "/api/v1/partner/cod/remittances", "/api/v1/partner/cod/remittances".into())
            .body(|w| json!({"remittance_id": "m1", "amount_vnd": 0, "job_ids": [w.job_id]}))
            .allow(&[Who::Partner], 422),
        row("GET", "/api/v1/admin/cod", "/api/v1/admin/cod".into()).allow(&[Who::Operator], 200),
        row("POST", "/api/v1/admin/cod/discrepancies/{id}/resolve", format!("/api/v1/admin/cod/discrepancies/{}/resolve", world.discrepancy_id))
            .body(|_| json!({"note": "Người mua trả bù"}))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/admin/refunds", "/api/v1/admin/refunds".into()).allow(&[Who::Operator], 200),
        row("POST", "/api/v1/admin/refunds/{id}/done", format!("/api/v1/admin/refunds/{}/done", world.refund_id))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/me/cod", "/api/v1/me/cod".into()).acting_farmer(200),
        row("GET", "/api/v1/me/statements", "/api/v1/me/statements?month=2026-11".into()).acting_farmer(200),
        row("GET", "/api/v1/admin/farmers/{id}/statements", format!("/api/v1/admin/farmers/{}/statements?month=2026-11", world.farmer_id))
            .allow(&[Who::Operator], 200),
        row("POST", "/api/v1/media", "/api/v1/media".into()).photo().acting_farmer(201),
        row("GET", "/media/{shard}/{name}", world.photo_path.clone()).public(200),
        row("POST", "/api/v1/listings/parse", "/api/v1/listings/parse".into())
            .body(|_| json!({"text": "bưởi da xanh 40k/quả còn 300 quả"}))
            .acting_farmer(200),
        row("POST", "/api/v1/listings", "/api/v1/listings".into())
            .body(|_| json!({"title": "Gạo ST25", "price": "30k", "quantity": "1 tấn"}))
            .acting_farmer(201),
        // Another farmer's listing exists but is not theirs: 404.
        row("PATCH", "/api/v1/listings/{id}", format!("/api/v1/listings/{}", world.listing_id))
            .body(|_| json!({"quantity": "150 kg"}))
            .acting_farmer(200)
            .allow(&[Who::OtherFarmer], 404),
        row("GET", "/api/v1/me/listings", "/api/v1/me/listings".into()).acting_farmer(200),
        row("GET", "/api/v1/listings", "/api/v1/listings?q=xoai".into()).public(200),
        row("GET", "/api/v1/listings/{id}", format!("/api/v1/listings/{}", world.listing_id)).public(200),
        row("GET", "/api/v1/farmers/{id}", format!("/api/v1/farmers/{}", world.farmer_id)).public(200),
        row("POST", "/api/v1/quotes", "/api/v1/quotes".into())
            .body(|w| json!({"items": [{"listing_id": w.listing_id, "quantity": 1}], "ward_code": WARD_DA_LAT}))
            .public(200),
        // Guests and buyers order; other people's tokens are not buyers.
        row("POST", "/api/v1/orders", "/api/v1/orders".into())
            .body(|w| json!({
                "items": [{"listing_id": w.listing_id, "quantity": 1}],
                "buyer": {"name": "Khách", "phone": fresh_phone()},
                "address": {"ward_code": WARD_DA_LAT, "street": "2 Lê Lợi"},
            }))
            .idempotent()
            .allow(&[Who::Anonymous, Who::Buyer], 201),
        // An order is its buyer's: everyone else gets 404 (partners' keys are refused outright).
        row("GET", "/api/v1/orders/{code}", format!("/api/v1/orders/{}", world.order_code))
            .allow(&[Who::Buyer], 200)
            .allow(&[Who::Anonymous], 404)
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Helper, Who::OtherHelper, Who::RevokedHelper, Who::Operator], 404),
        row("GET", "/api/v1/orders/{code}/qr.png", format!("/api/v1/orders/{}/qr.png", world.order_code))
            .allow(&[Who::Buyer], 200)
            .allow(&[Who::Anonymous], 404)
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Helper, Who::OtherHelper, Who::RevokedHelper, Who::Operator], 404),
        row("POST", "/api/v1/admin/orders/{code}/payment", format!("/api/v1/admin/orders/{}/payment", world.order_code))
            .allow(&[Who::Operator], 200),
        row("GET", "/api/v1/me/orders", "/api/v1/me/orders".into()).allow(&[Who::Buyer], 200),
        row("GET", "/api/v1/me/shipments", "/api/v1/me/shipments".into()).acting_farmer(200),
        // The farmer answers first; the helper, acting for the same farmer after that, finds it answered.
        row("POST", "/api/v1/shipments/{id}/accept", format!("/api/v1/shipments/{}/accept", world.shipment_id))
            .acting_farmer(409)
            .allow(&[Who::Farmer], 204)
            .allow(&[Who::OtherFarmer], 404),
        row("POST", "/api/v1/shipments/{id}/reject", format!("/api/v1/shipments/{}/reject", world.shipment_id))
            .body(|_| json!({"reason": "Hết hàng"}))
            .acting_farmer(409)
            .allow(&[Who::Farmer], 204)
            .allow(&[Who::OtherFarmer], 404),
        row("POST", "/api/v1/orders/{code}/cancel", format!("/api/v1/orders/{}/cancel", world.order_code))
            .allow(&[Who::Buyer], 200)
            .allow(&[Who::Anonymous], 404)
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Helper, Who::OtherHelper, Who::RevokedHelper, Who::Operator], 404),
        row("GET", "/api/v1/me/notifications", "/api/v1/me/notifications".into()).allow(&USERS, 200),
        row("POST", "/api/v1/me/notifications/read", "/api/v1/me/notifications/read".into()).allow(&USERS, 204),
        row("GET", "/api/v1/me/export", "/api/v1/me/export".into()).allow(&USERS, 200),
        // A wrong PIN or password erases nothing; staff accounts (helpers, operators) cannot erase themselves.
        row("DELETE", "/api/v1/me", "/api/v1/me".into())
            .body(|_| json!({"pin": "000001", "password": "not-the-password"}))
            .allow(&[Who::Farmer, Who::OtherFarmer, Who::Buyer], 401),
        // A guest's routes take no login, only the order's phone: any other phone gets 404, whoever calls.
        row("POST", "/api/v1/orders/{code}/privacy-code", format!("/api/v1/orders/{}/privacy-code", world.order_code))
            .body(|_| json!({"phone": fresh_phone()}))
            .public(404),
        row("POST", "/api/v1/orders/{code}/export", format!("/api/v1/orders/{}/export", world.order_code))
            .body(|_| json!({"phone": fresh_phone(), "code": "123456"}))
            .public(404),
        row("POST", "/api/v1/orders/{code}/erase", format!("/api/v1/orders/{}/erase", world.order_code))
            .body(|_| json!({"phone": fresh_phone(), "code": "123456"}))
            .public(404),
        // Signed by the SMS gateway, not by a session: every caller without the signature is refused.
        row("POST", "/api/v1/sms/inbound", "/api/v1/sms/inbound".into())
            .body(|world| json!({"id": "matrix", "from": world.farmer_phone, "text": "1"}))
            .allow(&EVERYONE, 401),
        // Authenticated by the bank-notification service's key, not by a session: every caller without it is
        // refused.
        row("POST", "/api/v1/payments/bank-notifications", "/api/v1/payments/bank-notifications".into())
            .body(|_| json!({"id": 2, "gateway": "VCB", "transactionDate": "2026-12-03 14:30:00", "accountNumber": "1",
                "content": "ung ho", "transferType": "in", "transferAmount": 1000, "referenceCode": "FT2"}))
            .allow(&EVERYONE, 401),
        row("GET", "/api/v1/admin/payments/exceptions", "/api/v1/admin/payments/exceptions".into())
            .allow(&[Who::Operator], 200),
        row(
            "POST",
            "/api/v1/admin/payments/exceptions/{id}/resolve",
            format!("/api/v1/admin/payments/exceptions/{}/resolve", world.payment_exception_id),
        )
        .body(|_| json!({"action": "ignore", "note": "Tiền ủng hộ"}))
        .allow(&[Who::Operator], 200),
        // Last: it ends the sessions the rows above use.
        row("POST", "/api/v1/auth/logout", "/api/v1/auth/logout".into()).allow(&USERS, 204),
    ]
}

on_both_backends! {
    every_route_answers_every_caller_as_the_matrix_says(app) {
        let world = build_world(&app).await;
        let rows = matrix(&world);

        let documented: BTreeSet<(String, String)> = app.get_json("/openapi.json").await["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| item.as_object().expect("item").keys().map(move |m| (m.to_uppercase(), path.clone())))
            .collect();
        let covered: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_owned(), r.route.to_owned())).collect();
        assert_eq!(documented, covered, "the matrix must list exactly the routes the service serves");

        let mut failures = Vec::new();
        for row in &rows {
            for who in EVERYONE {
                let mut request = app.request(row.method, &row.path, world.token(who));
                if row.on_behalf && HELPERS.contains(&who) {
                    request = request.header("X-On-Behalf-Of", world.farmer_id.to_string());
                }
                if let Some(body) = row.body {
                    request = request.json(&body(&world));
                }
                if row.idempotent {
                    request = request.header("Idempotency-Key", random_suffix());
                }
                if row.photo {
                    let (content_type, form) = photo_form(&sample::demo_photo(64, 48, 2), "p.jpg");
                    request = request.header("Content-Type", content_type).body(form);
                }
                let response = request.send().await.expect("sent");
                let (status, expected) = (response.status().as_u16(), row.expected(who));
                if status != expected {
                    let body = response.text().await.unwrap_or_default();
                    failures.push(format!("{} {} as {who:?}: {status}, expected {expected}: {body}", row.method, row.path));
                }
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    }
}
