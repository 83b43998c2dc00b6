//! Who is calling: session tokens and partner API keys, the role extractors handlers ask for, secrets
//! and login rate limits.

mod extract;
pub mod rate_limit;
pub mod secrets;
mod store;

pub use crate::domain::status::Role;
pub use extract::{
    ActingFarmer, AnyUser, FarmerSelf, Helper, MaybeUser, Me, Operator, Partner, PartnerKey, Principal, SessionUser,
    consent_required, require_access, resolve_acting_farmer, session_user, wrong_role,
};
pub use store::{HelperAccess, helper_access};
