//! Whose farm a page works on: the farmer logged in, or the farmer a helper acts for (chosen on `/helper`,
//! kept in a cookie, checked against the helper's team and the farmer's consent on every request, exactly
//! as the API's `X-On-Behalf-Of`).

use actix_web::HttpRequest;
use actix_web::web;

use super::Frame;
use super::visitor::Visitor;
use crate::auth::{ActingFarmer, resolve_acting_farmer};
use crate::domain::status::Role;
use crate::error::AppError;
use crate::state::AppState;

/// The farm a farmer page works on.
pub struct Seat {
    pub acting: ActingFarmer,
    pub farmer_name: String,
}

impl Seat {
    pub fn farmer_id(&self) -> i64 {
        self.acting.farmer_id
    }

    /// The page frame, with the farmer's bar and, for a helper, "acting for <name>" and the way out.
    pub fn frame(&self, visitor: &Visitor, req: &HttpRequest) -> Frame {
        let mut frame = Frame::with_role(visitor, req, Some(Role::Farmer));
        if self.acting.on_behalf() {
            frame.acting_for = Some(self.farmer_name.clone());
        }
        frame
    }
}

/// The seat of this visit: `None` when nobody is logged in as a farmer, nor as a helper acting for one
/// (the page then asks them to log in, or sends the helper to choose a household). A helper whose access
/// ended (revoked, or the farmer left the team's communes) gets the API's 403/404.
pub async fn farmer_seat(state: &web::Data<AppState>, visitor: &Visitor) -> Result<Option<Seat>, AppError> {
    let Some(user) = visitor.user.clone() else { return Ok(None) };
    let on_behalf_of = match (user.role, visitor.acting_for) {
        (Role::Farmer, _) => None,
        (Role::Helper, Some(farmer_id)) => Some(Some(farmer_id)),
        _ => return Ok(None),
    };
    let acting = resolve_acting_farmer(user, on_behalf_of, state.clone()).await?;
    let farmer_id = acting.farmer_id;
    let farmer_name = if acting.on_behalf() {
        state.db.read(move |conn| crate::accounts::store::profile(conn, farmer_id)).await?.name
    } else {
        acting.actor.name.clone()
    };
    Ok(Some(Seat { acting, farmer_name }))
}
