//! What a farmer's consent is: given (in their app, in person by typing their PIN on a helper's phone, or at
//! enrolment) to one team for some purposes, replacing the team's earlier one, and revoked at any time.
//! Whether a helper may act on it is decided where every request is checked (`auth::helper_access`).

use chrono::NaiveDateTime;

use super::store::{self, NewConsent};
use super::{Consent, Named};
use crate::db::{Conn, Db};
use crate::domain::status::{ConsentGivenBy, ConsentPurpose};
use crate::error::{AppError, Text};

/// The consent text a farmer agrees to; stored with each consent.
pub const CONSENT_VERSION: &str = "2025-07-helper-consent-v1";

/// A consent being given.
pub struct Giving {
    pub farmer_id: i64,
    pub team_id: i64,
    pub purposes: Vec<ConsentPurpose>,
    pub given_by: ConsentGivenBy,
    /// The helper on whose phone it is given (in person, at enrolment).
    pub helper_id: Option<i64>,
}

/// The purposes asked for, each once, in their usual order; 422 when there are none.
pub fn purposes(asked: &[ConsentPurpose]) -> Result<Vec<ConsentPurpose>, AppError> {
    let chosen: Vec<ConsentPurpose> = ConsentPurpose::ALL.iter().copied().filter(|p| asked.contains(p)).collect();
    if chosen.is_empty() {
        return Err(AppError::invalid_field(
            "purposes",
            "purposes_required",
            Text::new(
                "Hãy chọn ít nhất một việc nhóm được làm thay (list_produce, answer_orders, reset_pin).",
                "Choose at least one thing the team may do for you (list_produce, answer_orders, reset_pin).",
            ),
        ));
    }
    Ok(chosen)
}

/// Records a consent in the caller's transaction. The farmer's live consent to the same team ends with it, so
/// a team has at most one live consent and revoking it ends the team's access at once. 422 for an unknown team.
pub fn give(conn: &mut Conn<'_>, giving: &Giving, now: NaiveDateTime) -> Result<Consent, AppError> {
    let purposes = purposes(&giving.purposes)?;
    if !store::team_exists(conn, giving.team_id)? {
        return Err(AppError::invalid_field(
            "team_id",
            "team_unknown",
            Text::new("Không có nhóm hỗ trợ này.", "There is no such community team."),
        ));
    }
    store::revoke_team(conn, giving.farmer_id, giving.team_id, now)?;
    let consent = NewConsent {
        farmer_id: giving.farmer_id,
        team_id: giving.team_id,
        consent_version: CONSENT_VERSION,
        given_by: giving.given_by,
        helper_id: giving.helper_id,
        given_at: now,
    };
    let id = store::insert(conn, &consent, &purposes)?;
    consents_of(conn, giving.farmer_id)?.into_iter().find(|c| c.id == id).ok_or_else(AppError::not_found)
}

/// Every consent a farmer gave, live and revoked, newest first.
pub fn consents_of(conn: &mut Conn<'_>, farmer_id: i64) -> Result<Vec<Consent>, AppError> {
    let purposes = store::purposes_of(conn, farmer_id)?;
    let rows = store::of_farmer(conn, farmer_id)?;
    Ok(rows
        .into_iter()
        .map(|(id, team_id, team_name, version, given_by, helper_id, helper_name, given_at, revoked_at)| Consent {
            id,
            team: Named { id: team_id, name: team_name },
            // In their usual order, whatever order the database keeps them in.
            purposes: ConsentPurpose::ALL.iter().copied().filter(|p| purposes.contains(&(id, *p))).collect(),
            consent_version: version,
            given_by,
            helper: helper_id.zip(helper_name).map(|(id, name)| Named { id, name }),
            given_at: given_at.and_utc(),
            revoked_at: revoked_at.map(|at| at.and_utc()),
        })
        .collect())
}

/// The farmer revokes their consent `id` at once (again: no change); 404 when it is not theirs.
pub async fn withdraw(db: &Db, farmer_id: i64, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let theirs = db.write(move |conn| store::revoke(conn, farmer_id, id, now)).await?;
    if theirs { Ok(()) } else { Err(AppError::not_found()) }
}

/// Ends the farmer's live consent to the team of `helper_id` (when they revoke that helper), in the caller's
/// transaction.
pub fn withdraw_from_team_of(
    conn: &mut Conn<'_>,
    farmer_id: i64,
    helper_id: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    match store::helper_team(conn, helper_id)? {
        Some(team_id) => store::revoke_team(conn, farmer_id, team_id, now),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_each_named_once_in_order_and_never_none() {
        use ConsentPurpose::*;
        assert_eq!(purposes(&[ResetPin, ListProduce, ResetPin]).expect("chosen"), vec![ListProduce, ResetPin]);
        assert_eq!(purposes(ConsentPurpose::ALL).expect("all").len(), 3);
        assert_eq!(purposes(&[]).expect_err("none").code, "validation_failed");
    }
}
