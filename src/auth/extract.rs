//! The authenticated caller as actix extractors: a handler names the caller it accepts (`Operator`,
//! `Helper`, `ActingFarmer`, …) and everyone else is turned away before the handler runs.

use std::future::Future;
use std::pin::Pin;

use super::secrets::{API_KEY_PREFIX, token_hash};
use super::store::{self, HelperAccess};
use crate::domain::status::{ConsentPurpose, Role, Suspendable};
use crate::error::{AppError, Kind, Text};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};

/// Header a community helper adds to act for a farmer.
pub const ON_BEHALF_OF: &str = "x-on-behalf-of";

/// A person logged in with a session token.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub id: i64,
    pub role: Role,
    pub name: String,
    pub team_id: Option<i64>,
    pub session_id: i64,
}

/// A partner organisation calling with one of its API keys.
#[derive(Clone, Copy, Debug)]
pub struct PartnerKey {
    pub partner_id: i64,
    pub key_id: i64,
}

/// Any authenticated caller.
#[derive(Clone, Debug)]
pub enum Principal {
    User(SessionUser),
    Partner(PartnerKey),
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

fn unauthenticated(code: &'static str, detail: Text) -> AppError {
    AppError::new(Kind::Unauthorized, code, detail)
}

fn forbidden(code: &'static str, detail: Text) -> AppError {
    AppError::new(Kind::Forbidden, code, detail)
}

pub fn wrong_role() -> AppError {
    forbidden(
        "forbidden_role",
        Text::new("Tài khoản của bạn không dùng được chức năng này.", "Your account cannot use this function."),
    )
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| AppError::internal(anyhow::anyhow!("no AppState")))
}

/// 403 for a caller an operator suspended, with a code of its own for a person, a team and a partner.
fn suspended(who: Suspendable) -> AppError {
    let (code, detail) = match who {
        Suspendable::Helper | Suspendable::Farmer => (
            "account_suspended",
            Text::new(
                "Tài khoản của bạn đang bị tạm ngừng. Hãy liên hệ bộ phận vận hành.",
                "Your account is suspended. Please contact the operators.",
            ),
        ),
        Suspendable::Team => (
            "team_suspended",
            Text::new(
                "Nhóm hỗ trợ của bạn đang bị tạm ngừng. Hãy liên hệ bộ phận vận hành.",
                "Your team is suspended. Please contact the operators.",
            ),
        ),
        Suspendable::Partner => (
            "partner_suspended",
            Text::new(
                "Đối tác này đang bị tạm ngừng. Hãy liên hệ bộ phận vận hành.",
                "This partner is suspended. Please contact the operators.",
            ),
        ),
    };
    forbidden(code, detail)
}

/// The person a session token belongs to while the session lives (403 while they or their team are
/// suspended). API bearer tokens and the web app's session cookie are the same tokens in the same store.
pub async fn session_user(state: &AppState, token: &str) -> Result<Option<SessionUser>, AppError> {
    let (hash, now) = (token_hash(token), state.clock.now());
    let Some(session) = state.db.read(move |conn| store::live_session(conn, &hash, now)).await? else {
        return Ok(None);
    };
    if session.suspended.is_some() {
        return Err(suspended(Suspendable::Helper));
    }
    if session.team_suspended.is_some() {
        return Err(suspended(Suspendable::Team));
    }
    Ok(Some(SessionUser {
        id: session.user_id,
        role: session.role,
        name: session.name,
        team_id: session.team_id,
        session_id: session.session_id,
    }))
}

/// Resolves the bearer token of a request; 401 when there is none or it is not (or no longer) valid.
fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<Principal, AppError>> + 'static {
    let state = app_state(req);
    let token = bearer_token(req);
    async move {
        let state = state?;
        let Some(token) = token else {
            return Err(unauthenticated(
                "unauthenticated",
                Text::new("Vui lòng đăng nhập.", "Please log in (Authorization: Bearer <token>)."),
            ));
        };
        let hash = token_hash(&token);
        let invalid = || {
            unauthenticated(
                "invalid_token",
                Text::new(
                    "Phiên đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại.",
                    "The session or key is expired or invalid. Please log in again.",
                ),
            )
        };
        if token.starts_with(API_KEY_PREFIX) {
            let key = state.db.read(move |conn| store::live_api_key(conn, &hash)).await?.ok_or_else(invalid)?;
            if key.2.is_some() {
                return Err(suspended(Suspendable::Partner));
            }
            return Ok(Principal::Partner(PartnerKey { partner_id: key.0, key_id: key.1 }));
        }
        Ok(Principal::User(session_user(&state, &token).await?.ok_or_else(invalid)?))
    }
}

impl FromRequest for Principal {
    type Error = actix_web::Error;
    type Future = Extracted<Principal>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        Box::pin(async move { Ok(principal.await?) })
    }
}

/// Extractors that accept people of some roles only.
macro_rules! user_extractor {
    ($(#[$doc:meta])* $name:ident, $($role:path)|+) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub SessionUser);

        impl FromRequest for $name {
            type Error = actix_web::Error;
            type Future = Extracted<$name>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let principal = authenticate(req);
                Box::pin(async move {
                    match principal.await? {
                        Principal::User(user) if matches!(user.role, $($role)|+) => Ok($name(user)),
                        _ => Err(wrong_role().into()),
                    }
                })
            }
        }
    };
}

user_extractor!(
    /// Any logged-in person (not a partner key).
    AnyUser, Role::Farmer | Role::Buyer | Role::Helper | Role::Operator
);
user_extractor!(
    /// An operator of the marketplace.
    Operator, Role::Operator
);
user_extractor!(
    /// A community helper.
    Helper, Role::Helper
);
user_extractor!(
    /// A farmer acting for themself; helpers may not use these endpoints even with `X-On-Behalf-Of` (the
    /// farmer's own oversight of their helpers).
    FarmerSelf, Role::Farmer
);

/// A logged-in person if the request carries a token (an invalid token is still 401), nobody otherwise:
/// for routes guests may use too.
pub struct MaybeUser(pub Option<SessionUser>);

impl FromRequest for MaybeUser {
    type Error = actix_web::Error;
    type Future = Extracted<MaybeUser>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let has_token = req.headers().contains_key(AUTHORIZATION);
        let principal = authenticate(req);
        Box::pin(async move {
            if !has_token {
                return Ok(MaybeUser(None));
            }
            match principal.await? {
                Principal::User(user) => Ok(MaybeUser(Some(user))),
                Principal::Partner(_) => Err(wrong_role().into()),
            }
        })
    }
}

/// A partner organisation (API key).
#[derive(Clone, Copy, Debug)]
pub struct Partner(pub PartnerKey);

impl FromRequest for Partner {
    type Error = actix_web::Error;
    type Future = Extracted<Partner>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        Box::pin(async move {
            match principal.await? {
                Principal::Partner(key) => Ok(Partner(key)),
                Principal::User(_) => Err(wrong_role().into()),
            }
        })
    }
}

/// The farmer a farmer endpoint works for: the farmer themself, or a helper of their commune's team acting
/// for them with `X-On-Behalf-Of: <farmer_id>` (which the handler must write to the audit log) while the
/// farmer has a live consent for that team.
#[derive(Clone, Debug)]
pub struct ActingFarmer {
    pub farmer_id: i64,
    pub actor: SessionUser,
    /// A helper: what the farmer's live consents to the helper's team cover (empty for the farmer themself).
    pub purposes: Vec<ConsentPurpose>,
}

impl ActingFarmer {
    fn themself(actor: SessionUser) -> ActingFarmer {
        ActingFarmer { farmer_id: actor.id, actor, purposes: Vec::new() }
    }

    pub fn on_behalf(&self) -> bool {
        self.actor.id != self.farmer_id
    }

    /// Whether the actor may do what needs `purpose`: the farmer always, a helper only when the farmer's
    /// consent covers it (else 403 `consent_required`).
    pub fn may(&self, purpose: ConsentPurpose) -> Result<(), AppError> {
        if !self.on_behalf() || self.purposes.contains(&purpose) {
            Ok(())
        } else {
            Err(consent_required(Some(purpose)))
        }
    }
}

/// 403 for a helper whose team the farmer has not (or no longer) agreed may act for them, for `purpose` or at all.
pub fn consent_required(purpose: Option<ConsentPurpose>) -> AppError {
    let (vi, en) = match purpose {
        None => (
            "Nông dân này chưa đồng ý cho nhóm của bạn làm thay. Hãy nhờ họ đồng ý trong ứng dụng, hoặc nhập mã PIN của họ trên máy bạn.",
            "This farmer has not agreed that your team acts for them. Ask them to agree in their app, or to type their PIN on your phone.",
        ),
        Some(ConsentPurpose::ListProduce) => (
            "Nông dân này chưa đồng ý cho nhóm của bạn đăng và sửa hàng thay họ.",
            "This farmer has not agreed that your team lists or edits produce for them.",
        ),
        Some(ConsentPurpose::AnswerOrders) => (
            "Nông dân này chưa đồng ý cho nhóm của bạn trả lời đơn hàng thay họ.",
            "This farmer has not agreed that your team answers orders for them.",
        ),
        Some(ConsentPurpose::ResetPin) => (
            "Nông dân này chưa đồng ý cho nhóm của bạn đặt lại mã PIN của họ.",
            "This farmer has not agreed that your team resets their PIN.",
        ),
    };
    forbidden("consent_required", Text::new(vi, en))
}

fn on_behalf_header(req: &HttpRequest) -> Option<Option<i64>> {
    req.headers().get(ON_BEHALF_OF).map(|v| v.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()))
}

impl FromRequest for ActingFarmer {
    type Error = actix_web::Error;
    type Future = Extracted<ActingFarmer>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        let state = app_state(req);
        let on_behalf_of = on_behalf_header(req);
        Box::pin(async move {
            let Principal::User(actor) = principal.await? else { return Err(wrong_role().into()) };
            Ok(resolve_acting_farmer(actor, on_behalf_of, state?).await?)
        })
    }
}

/// The caller of `/me`: a farmer (or a helper acting for one, audited), or anyone else for themself.
pub enum Me {
    Farmer(ActingFarmer),
    Other(SessionUser),
}

impl FromRequest for Me {
    type Error = actix_web::Error;
    type Future = Extracted<Me>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = authenticate(req);
        let state = app_state(req);
        let on_behalf_of = on_behalf_header(req);
        Box::pin(async move {
            let Principal::User(user) = principal.await? else { return Err(wrong_role().into()) };
            if user.role == Role::Farmer || on_behalf_of.is_some() {
                return Ok(Me::Farmer(resolve_acting_farmer(user, on_behalf_of, state?).await?));
            }
            Ok(Me::Other(user))
        })
    }
}

/// The farmer a person works for: themself (a farmer), or the farmer a helper names (`Some(id)`) when the
/// farmer is in the helper's team, has a live consent for it and has not revoked the helper.
pub async fn resolve_acting_farmer(
    actor: SessionUser,
    on_behalf_of: Option<Option<i64>>,
    state: web::Data<AppState>,
) -> Result<ActingFarmer, AppError> {
    match (actor.role, on_behalf_of) {
        (Role::Farmer, None) => Ok(ActingFarmer::themself(actor)),
        (Role::Farmer, Some(Some(id))) if id == actor.id => Ok(ActingFarmer::themself(actor)),
        (_, Some(None)) => Err(AppError::invalid_field(
            "X-On-Behalf-Of",
            "invalid_farmer_id",
            Text::new("X-On-Behalf-Of phải là mã số nông dân.", "X-On-Behalf-Of must be a farmer id."),
        )),
        (Role::Helper, Some(Some(farmer_id))) => {
            let (helper_id, team_id) = (actor.id, actor.team_id);
            let access = state.db.read(move |conn| store::helper_access(conn, helper_id, team_id, farmer_id)).await?;
            let purposes = require_access(access)?;
            Ok(ActingFarmer { farmer_id, actor, purposes })
        }
        (Role::Helper, None) => Err(forbidden(
            "on_behalf_of_required",
            Text::new(
                "Hãy chọn nông dân bạn đang hỗ trợ (tiêu đề X-On-Behalf-Of).",
                "Name the farmer you act for in the X-On-Behalf-Of header.",
            ),
        )),
        _ => Err(wrong_role()),
    }
}

/// Turns a helper's access to a farmer into the purposes the helper may act for: 404 outside the team
/// (whether the farmer exists elsewhere stays private), 403 without a live consent or once the farmer revoked
/// the helper.
pub fn require_access(access: HelperAccess) -> Result<Vec<ConsentPurpose>, AppError> {
    match access {
        HelperAccess::Allowed(purposes) => Ok(purposes),
        HelperAccess::NoConsent => Err(consent_required(None)),
        HelperAccess::Revoked => Err(forbidden(
            "helper_revoked",
            Text::new(
                "Nông dân này đã thu hồi quyền hỗ trợ của bạn.",
                "This farmer has withdrawn your right to act for them.",
            ),
        )),
        HelperAccess::FarmerSuspended => Err(forbidden(
            "farmer_suspended",
            Text::new(
                "Tài khoản của nông dân này đang bị tạm ngừng; không ai làm thay được.",
                "This farmer's account is suspended; nobody can act for them.",
            ),
        )),
        HelperAccess::NotInTeam => Err(AppError::new(
            Kind::NotFound,
            "farmer_not_found",
            Text::new(
                "Không tìm thấy nông dân này trong các xã của nhóm bạn.",
                "No such farmer in your team's communes.",
            ),
        )),
    }
}
