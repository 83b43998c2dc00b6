//! What a farmer's text reply does, the reminders before an answer's deadline, and the daily digest of what
//! helpers did for a farmer. A reply goes through the same rules as the app's accept and reject buttons
//! (`orders::rules`), in one transaction with the record of its gateway id, so a replayed reply changes
//! nothing.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use super::store::{self, NotificationRow, Waiting};
use crate::accounts::store as accounts;
use crate::audit;
use crate::clock;
use crate::db::{Conn, Db};
use crate::domain::phone::Phone;
use crate::domain::status::{AuditAction, ReplyOutcome};
use crate::error::{AppError, Lang};
use crate::mail::templates::Template;
use crate::orders::answering::Answer;
use crate::orders::codes::normalise_order_code;
use crate::orders::rules::{self as orders, deadline_text, items_summary};
use crate::orders::store as order_store;
use crate::outbox::{self, Person};
use crate::sms::unaccented;

/// How long before its deadline a farmer is reminded of a shipment still waiting.
pub const REMIND_BEFORE: Duration = Duration::hours(4);
/// The reason the buyer reads when a farmer rejects by text without giving one.
const NO_REASON: &str = "người bán không nhận đơn";
/// How many notifications a person's list shows (the newest).
pub const INBOX_SHOWN: i64 = 50;
/// Orders named in a "which order?" answer (a text is short).
const LISTED: usize = 4;

/// What a reply asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Accept { code: Option<String> },
    Reject { code: Option<String>, reason: Option<String> },
    Other,
}

/// Reads `1`, `C`, `Có`, `OK` (accept) and `2`, `K`, `Không` (reject, a reason may follow), each optionally
/// followed by the order code; case and diacritics do not matter.
pub fn parse_reply(text: &str) -> Reply {
    let text = text.trim();
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let accept = match unaccented(word).to_lowercase().as_str() {
        "1" | "c" | "co" | "ok" => true,
        "2" | "k" | "khong" => false,
        _ => return Reply::Other,
    };
    let rest = rest.trim();
    let (first, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let (code, rest) = match normalise_order_code(first) {
        Some(code) => (Some(code), after.trim()),
        None => (None, rest),
    };
    if accept {
        Reply::Accept { code }
    } else {
        let reason = (!rest.is_empty()).then(|| rest.to_owned());
        Reply::Reject { code, reason }
    }
}

/// A reply the gateway received: its id, the sender's phone as the gateway gives it, and the text.
pub struct Inbound<'a> {
    pub gateway_id: &'a str,
    pub from: &'a str,
    pub text: &'a str,
}

/// Handles a reply once per gateway id, in the caller's transaction.
pub fn handle_reply(conn: &mut Conn<'_>, inbound: &Inbound<'_>, now: NaiveDateTime) -> Result<ReplyOutcome, AppError> {
    if !store::record_inbound(conn, inbound.gateway_id, inbound.from, now)? {
        return Ok(ReplyOutcome::Duplicate);
    }
    // A number that is not a Vietnamese mobile is nobody's.
    let phone = Phone::parse(inbound.from).ok();
    let farmer = match &phone {
        Some(phone) => store::farmer_by_phone(conn, phone.as_str())?.map(|id| (id, phone.as_str())),
        None => None,
    };
    let outcome = match farmer {
        Some((farmer_id, phone)) => answer(conn, farmer_id, phone, &parse_reply(inbound.text), now)?,
        None => ReplyOutcome::UnknownSender,
    };
    store::set_outcome(conn, inbound.gateway_id, outcome)?;
    Ok(outcome)
}

/// Texts the farmer back.
fn tell(
    conn: &mut Conn<'_>,
    phone: &str,
    template: Template,
    values: &[(&str, &str)],
    now: NaiveDateTime,
) -> Result<(), AppError> {
    // Answers in the text conversation only: they are not news for the app's list.
    let to = Person { user_id: None, email: None, phone: Some(phone) };
    outbox::notify(conn, to, template, Lang::Vi, values, now)
}

fn answer(
    conn: &mut Conn<'_>,
    farmer_id: i64,
    phone: &str,
    reply: &Reply,
    now: NaiveDateTime,
) -> Result<ReplyOutcome, AppError> {
    let (code, accept, reason) = match reply {
        Reply::Accept { code } => (code, true, None),
        Reply::Reject { code, reason } => (code, false, reason.as_deref()),
        Reply::Other => {
            tell(conn, phone, Template::ReplyHelp, &[], now)?;
            return Ok(ReplyOutcome::Help);
        }
    };
    let waiting = store::waiting_shipments(conn, farmer_id)?;
    let chosen = match code {
        Some(code) => waiting.iter().find(|w| &w.order_code == code),
        None if waiting.len() == 1 => waiting.first(),
        None => None,
    };
    let Some(chosen) = chosen else {
        let Some(first) = waiting.first() else {
            tell(conn, phone, Template::ReplyNothingWaiting, &[], now)?;
            return Ok(ReplyOutcome::NothingWaiting);
        };
        let orders: Vec<&str> = waiting.iter().take(LISTED).map(|w| w.order_code.as_str()).collect();
        let values = [("orders", orders.join(", ")), ("code", first.order_code.clone())];
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        tell(conn, phone, Template::ReplyChooseOrder, &values, now)?;
        return Ok(ReplyOutcome::AskedWhichOrder);
    };
    let (given, action, told, outcome) = if accept {
        let given = orders::accept_shipment(conn, chosen.shipment_id, now)?;
        (given, AuditAction::AcceptShipmentBySms, Template::ReplyAccepted, ReplyOutcome::Accepted)
    } else {
        // The app's rule for a reason (one line, at most 300 characters); a text without one gets a plain one.
        let reason = match reason.map(Answer::reject) {
            Some(Ok(Answer::Reject(reason))) => reason,
            _ => NO_REASON.to_owned(),
        };
        let given = orders::reject_shipment(conn, chosen.shipment_id, &reason, now)?;
        (given, AuditAction::RejectShipmentBySms, Template::ReplyRejected, ReplyOutcome::Rejected)
    };
    if !given {
        // Answered in the app a moment ago, or expired.
        tell(conn, phone, Template::ReplyNothingWaiting, &[], now)?;
        return Ok(ReplyOutcome::NothingWaiting);
    }
    let entity_id = Some(chosen.shipment_id.to_string());
    audit::record(conn, &audit::Entry { actor_id: farmer_id, farmer_id, action, entity_id }, now)?;
    tell(conn, phone, told, &[("code", &chosen.order_code)], now)?;
    Ok(outcome)
}

/// The deadlines a reminder is due for at `now`: those under `REMIND_BEFORE` away and, in the hour before the
/// quiet hours, every one until the morning too: held overnight, their reminders would come too late.
fn remind_until(now: NaiveDateTime) -> NaiveDateTime {
    let soon = now + Duration::hours(1);
    (now + REMIND_BEFORE).max(clock::after_quiet_hours(soon))
}

/// Reminds each farmer once of a shipment whose deadline is under `REMIND_BEFORE` away; the reminder waits
/// out the quiet hours. Several instances running this remind each shipment once.
pub fn remind_due(conn: &mut Conn<'_>, now: NaiveDateTime) -> Result<usize, AppError> {
    let mut reminded = 0;
    for waiting in store::unreminded(conn, now, remind_until(now))? {
        if store::mark_reminded(conn, waiting.shipment_id, now)? {
            remind(conn, &waiting, now)?;
            reminded += 1;
        }
    }
    Ok(reminded)
}

fn remind(conn: &mut Conn<'_>, waiting: &Waiting, now: NaiveDateTime) -> Result<(), AppError> {
    let lines = order_store::shipment_items(conn, waiting.shipment_id)?;
    let lines: Vec<(&str, &str, i64)> = lines.iter().map(|(t, u, q)| (t.as_str(), u.as_str(), *q)).collect();
    let (items, deadline) = (items_summary(&lines), deadline_text(waiting.respond_by));
    let values = [("code", waiting.order_code.as_str()), ("items", &items), ("deadline", &deadline)];
    let farmer = order_store::farmer_contact(conn, waiting.farmer_id)?;
    outbox::notify(conn, farmer.person(), Template::ShipmentReminder, Lang::Vi, &values, now)
}

/// Tells each farmer once a day, in one message, what helpers changed for them in the day up to the latest
/// digest close (18:00 Vietnam time), rather than a text per action; it waits out the quiet hours. Each
/// farmer's digest is claimed with a conditional update, so several instances send it once.
pub fn send_digests(conn: &mut Conn<'_>, now: NaiveDateTime) -> Result<usize, AppError> {
    let until = clock::digest_cutoff(now);
    let mut by_farmer: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (farmer_id, helper_id) in store::helper_changes(conn, until - Duration::days(1), until)? {
        by_farmer.entry(farmer_id).or_default().push(helper_id);
    }
    let mut sent = 0;
    for (farmer_id, mut helpers) in by_farmer {
        if !store::claim_digest(conn, farmer_id, until)? {
            continue;
        }
        let count = helpers.len().to_string();
        helpers.sort_unstable();
        helpers.dedup();
        let names = store::names_of(conn, &helpers)?.join(", ");
        let day = clock::in_vietnam(until).format("%d/%m").to_string();
        let farmer = accounts::profile(conn, farmer_id)?;
        let values = [("name", farmer.name.as_str()), ("count", &count), ("helpers", &names), ("day", &day)];
        let to = Person { user_id: Some(farmer_id), email: farmer.email.as_deref(), phone: farmer.phone.as_deref() };
        outbox::notify(conn, to, Template::HelperDigest, Lang::Vi, &values, now)?;
        sent += 1;
    }
    Ok(sent)
}

/// The newest notifications of a person, as they open their list: the unread ones are then read.
pub async fn open_inbox(db: &Db, user_id: i64, now: NaiveDateTime) -> Result<Vec<NotificationRow>, AppError> {
    db.write(move |conn| {
        let (rows, _) = store::notifications(conn, user_id, INBOX_SHOWN)?;
        store::mark_read(conn, user_id, now)?;
        Ok(rows)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_before_the_morning_are_reminded_in_the_evening_not_after_the_night() {
        let vietnam = |h: u32, m: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 3).and_then(|d| d.and_hms_opt(h, m, 0)).expect("time")
                - Duration::hours(7)
        };
        // Midday: four hours ahead.
        assert_eq!(remind_until(vietnam(12, 0)), vietnam(16, 0));
        // 20:10, the last hour before the quiet hours: everything due before 07:00 tomorrow as well.
        assert_eq!(remind_until(vietnam(20, 10)), vietnam(7, 0) + Duration::days(1));
        // 19:00: not yet.
        assert_eq!(remind_until(vietnam(19, 0)), vietnam(23, 0));
    }

    #[test]
    fn replies_accept_or_reject_with_an_optional_code_and_reason() {
        for yes in ["1", "C", "có", "Có", "OK", "ok ", " 1"] {
            assert_eq!(parse_reply(yes), Reply::Accept { code: None }, "{yes}");
        }
        assert_eq!(parse_reply("1 NS-M4N-C9G-2R9"), Reply::Accept { code: normalise_order_code("NS-M4N-C9G-2R9") });
        assert_eq!(parse_reply("2 hết hàng"), Reply::Reject { code: None, reason: Some("hết hàng".into()) });
        assert_eq!(parse_reply("Không"), Reply::Reject { code: None, reason: None });
        let code = normalise_order_code("NS-M4N-C9G-2R9");
        assert_eq!(parse_reply("K ns-m4n-c9g-2r9  mưa to"), Reply::Reject { code, reason: Some("mưa to".into()) });
        for other in ["", "xin chào", "3", "12"] {
            assert_eq!(parse_reply(other), Reply::Other, "{other}");
        }
    }
}
