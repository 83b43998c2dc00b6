//! Fulfilment rules: when a shipment becomes a job, claims and leases, applying partners' events, and
//! cancelling before pickup. Each function runs inside the caller's transaction. Orders call in here; this
//! module never calls orders (it reads the few order facts it needs through its own store).

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use rand::Rng;

use super::machine::{Step, step};
use super::store::{self, JobChange, JobRow, NewEvent, NewJob};
use super::webhooks;
use crate::db::Conn;
use crate::domain::money::format_vnd;
use crate::domain::quantity::Unit;
use crate::domain::status::{DiscrepancyStatus, JobStatus, PaymentMethod};
use crate::error::{AppError, Kind, Lang, Text};
use crate::mail::templates::{Template, lang_of};
use crate::{outbox, progress};

/// What opening the jobs of an order needs to know of it.
pub struct OrderToShip {
    pub id: i64,
    pub ward_code: i32,
    pub province_code: i32,
    pub payment_method: PaymentMethod,
    /// Still going ahead (not cancelled).
    pub payable: bool,
    /// A transfer has arrived.
    pub paid: bool,
}

/// Opens a job for every accepted shipment of the order that has none, once the order is cash on delivery
/// or paid: a carrier should not collect goods nobody will pay for. Safe to call again (one job per shipment).
pub fn open_jobs(conn: &mut Conn<'_>, order: &OrderToShip, now: NaiveDateTime) -> Result<(), AppError> {
    let cash_on_delivery = order.payment_method == PaymentMethod::Cod;
    if !order.payable || !(cash_on_delivery || order.paid) {
        return Ok(());
    }
    let order_id = order.id;
    for (shipment_id, pickup_ward, pickup_province, weight_g, items_total_vnd, fee_vnd) in
        store::shipments_without_job(conn, order_id)?
    {
        let summary = store::shipment_lines(conn, shipment_id)?
            .into_iter()
            .map(|(title, code, quantity)| {
                let unit = Unit::parse_code(&code).map_or(code.as_str(), |unit| unit.name_vi());
                format!("{title} × {quantity} {unit}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        let job = NewJob {
            shipment_id,
            order_id,
            pickup_province_code: pickup_province,
            pickup_ward_code: pickup_ward,
            dropoff_province_code: order.province_code,
            dropoff_ward_code: order.ward_code,
            weight_g,
            cod_vnd: if cash_on_delivery { items_total_vnd + fee_vnd } else { 0 },
            declared_value_vnd: items_total_vnd,
            item_summary: &summary,
            status: JobStatus::Available,
            attempts: 0,
            needs_operator: false,
            created_at: now,
            updated_at: now,
        };
        if let Some(job) = store::insert_job(conn, &job)? {
            webhooks::enqueue(conn, &job, webhooks::JOB_AVAILABLE, now)?;
        }
    }
    Ok(())
}

fn picked_up_already() -> AppError {
    AppError::new(
        Kind::Conflict,
        "already_picked_up",
        Text::new(
            "Hàng đã được giao cho đơn vị vận chuyển nên không thể hủy nữa.",
            "The parcel is already with the carrier, so it can no longer be cancelled.",
        ),
    )
}

/// Cancels the shipment's job, if it has one, before the parcel leaves the farm; 409 once it has.
pub fn cancel_job(conn: &mut Conn<'_>, shipment_id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    let Some(job) = store::job_of_shipment(conn, shipment_id)? else { return Ok(()) };
    if job.status == JobStatus::Cancelled {
        return Ok(());
    }
    if !matches!(job.status, JobStatus::Available | JobStatus::Claimed) {
        return Err(picked_up_already());
    }
    // The holder keeps the job (so its events get a clear 409), but its lease ends.
    let change = JobChange {
        status: Some(JobStatus::Cancelled),
        lease_id: Some(None),
        lease_expires_at: Some(None),
        updated_at: Some(now),
        ..JobChange::default()
    };
    store::change_job(conn, job.id, &change)?;
    let cancelled = JobRow { status: JobStatus::Cancelled, ..job };
    webhooks::enqueue(conn, &cancelled, webhooks::JOB_CANCELLED, now)
}

/// A fresh fencing token.
fn new_lease_id() -> String {
    format!("lse_{:032x}", rand::rng().random::<u128>())
}

pub const LEASE_SECONDS: std::ops::RangeInclusive<i64> = 1..=86_400;

/// Claims up to `limit` jobs for a partner under one new lease.
pub fn claim(
    conn: &mut Conn<'_>,
    partner_id: i64,
    provinces: &[i32],
    limit: i64,
    lease_seconds: i64,
    now: NaiveDateTime,
) -> Result<Vec<JobRow>, AppError> {
    let lease_id = new_lease_id();
    let expires_at = now + Duration::seconds(lease_seconds);
    store::claim(conn, partner_id, provinces, limit, (&lease_id, expires_at), now)
}

fn lease_refused() -> AppError {
    AppError::new(
        Kind::Conflict,
        "lease_not_live",
        Text::new(
            "Lượt nhận việc này đã hết hạn hoặc không còn hiệu lực; hãy nhận lại việc.",
            "This lease has expired or was replaced; claim the job again.",
        ),
    )
}

/// The job if this partner may see it: open to claim in a province it serves, or held by it; 404 otherwise.
pub fn visible_to(job: Option<JobRow>, partner_id: i64, provinces: &[i32]) -> Result<JobRow, AppError> {
    let job = job.ok_or_else(AppError::not_found)?;
    let held = job.partner_id == Some(partner_id);
    let open = job.status == JobStatus::Available && provinces.contains(&job.pickup_province_code);
    if held || open { Ok(job) } else { Err(AppError::not_found()) }
}

pub fn extend(
    conn: &mut Conn<'_>,
    id: i64,
    lease_id: &str,
    lease_seconds: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if store::extend_lease(conn, id, lease_id, now + Duration::seconds(lease_seconds), now)? {
        Ok(())
    } else {
        Err(lease_refused())
    }
}

/// A partner gives a job back: a claim that came to nothing, traced and counted (see `store::release`).
pub fn release(
    conn: &mut Conn<'_>,
    id: i64,
    lease_id: &str,
    now: NaiveDateTime,
    max_attempts: i32,
) -> Result<(), AppError> {
    if store::release(conn, id, lease_id, now, max_attempts)? { Ok(()) } else { Err(lease_refused()) }
}

/// A partner's report on a job, checked.
pub struct Event<'a> {
    pub event_id: &'a str,
    pub status: JobStatus,
    pub occurred_at: NaiveDateTime,
    pub lease_id: Option<&'a str>,
    pub tracking_code: Option<&'a str>,
    pub carrier_status: Option<&'a str>,
    pub note: Option<&'a str>,
    pub cod_collected_vnd: Option<i64>,
    /// Why less cash than due was collected (required then, refused otherwise).
    pub cod_shortfall_reason: Option<&'a str>,
}

/// What became of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The job moved to the event's status.
    Applied,
    /// Recorded in the history; the job had already moved past it.
    Late,
    /// The same `event_id` was recorded before; nothing changed.
    Duplicate,
}

fn job_state_conflict(current: JobStatus) -> AppError {
    AppError::new(
        Kind::Conflict,
        "job_state",
        Text::new(
            format!("Không thể chuyển trạng thái: việc đang ở trạng thái {current}."),
            format!("Impossible transition: the job is {current}."),
        ),
    )
}

/// Applies (or records) one event of the partner holding the job.
pub fn record_event(
    conn: &mut Conn<'_>,
    job: &JobRow,
    partner_id: i64,
    event: &Event<'_>,
    max_attempts: i32,
    now: NaiveDateTime,
) -> Result<Outcome, AppError> {
    if store::recorded_event(conn, job.id, event.event_id)?.is_some() {
        return Ok(Outcome::Duplicate);
    }
    if job.partner_id != Some(partner_id) {
        // Open to claim, but not this partner's yet.
        return Err(job_state_conflict(job.status));
    }
    let current = job.status;
    if current == JobStatus::Claimed {
        let live = job.lease_expires_at.is_some_and(|end| end > now);
        if !live || event.lease_id.is_none_or(|lease| Some(lease) != job.lease_id.as_deref()) {
            return Err(match event.lease_id {
                None => AppError::invalid_field(
                    "lease_id",
                    "lease_required",
                    Text::new(
                        "Cần `lease_id` cho tới khi đã lấy hàng.",
                        "`lease_id` is required until the parcel is picked up.",
                    ),
                ),
                Some(_) => lease_refused(),
            });
        }
    }
    let outcome = match step(current, event.status) {
        Step::Impossible => return Err(job_state_conflict(job.status)),
        Step::Late => Outcome::Late,
        Step::Advance => Outcome::Applied,
    };
    let cod_collected = check_cod(job, event, outcome)?;
    check_date(job, event)?;
    store::insert_event(
        conn,
        &NewEvent {
            job_id: job.id,
            partner_id,
            event_id: event.event_id,
            status: event.status,
            applied: outcome == Outcome::Applied,
            occurred_at: event.occurred_at,
            recorded_at: now,
            tracking_code: event.tracking_code,
            carrier_status: event.carrier_status,
            note: event.note,
            cod_collected_vnd: cod_collected,
        },
    )?;
    if outcome == Outcome::Applied {
        advance(conn, job, event, cod_collected, max_attempts, now)?;
        if let (Some(collected), Some(reason)) = (cod_collected, event.cod_shortfall_reason) {
            let shortfall = store::NewDiscrepancy {
                job_id: job.id,
                partner_id,
                expected_vnd: job.cod_vnd,
                collected_vnd: collected,
                reason,
                status: DiscrepancyStatus::Open,
                created_at: now,
            };
            store::insert_discrepancy(conn, &shortfall)?;
        }
    }
    Ok(outcome)
}

/// How far a partner's clock may run ahead of ours.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A report cannot be dated before its job existed, nor in the future.
fn check_date(job: &JobRow, event: &Event<'_>) -> Result<(), AppError> {
    if event.occurred_at + CLOCK_SKEW < job.created_at {
        return Err(AppError::invalid_field(
            "occurred_at",
            "occurred_before_job",
            Text::new(
                "`occurred_at` sớm hơn lúc việc này được tạo; hãy gửi đúng thời điểm xảy ra.",
                "`occurred_at` is before this job existed; send the time it really happened.",
            ),
        ));
    }
    Ok(())
}

/// The COD amount a delivery records: required when cash was due, at most what was due, and below it only
/// with a reason (which then stands as a discrepancy until an operator resolves it); absent otherwise.
fn check_cod(job: &JobRow, event: &Event<'_>, outcome: Outcome) -> Result<Option<i64>, AppError> {
    let delivers = outcome == Outcome::Applied && event.status == JobStatus::Delivered;
    let error =
        |code, vi: String, en: String| Err(AppError::invalid_field("cod_collected_vnd", code, Text::new(vi, en)));
    let due = format_vnd(job.cod_vnd);
    match (event.cod_collected_vnd, delivers && job.cod_vnd > 0, event.cod_shortfall_reason) {
        (None, false, None) => Ok(None),
        (Some(amount), true, None) if amount == job.cod_vnd => Ok(Some(amount)),
        (Some(amount), true, Some(_)) if (0..job.cod_vnd).contains(&amount) => Ok(Some(amount)),
        (Some(amount), true, None) if (0..job.cod_vnd).contains(&amount) => Err(AppError::invalid_field(
            "cod_shortfall_reason",
            "cod_shortfall_reason_required",
            Text::new(
                format!("Thu {} thay vì {due}: cần `cod_shortfall_reason` cho biết vì sao.", format_vnd(amount)),
                format!("{} collected instead of {due}: `cod_shortfall_reason` must say why.", format_vnd(amount)),
            ),
        )),
        (None, true, _) | (Some(_), true, _) => error(
            "cod_collected_required",
            format!("Giao hàng thu hộ cần `cod_collected_vnd` từ 0 đến {due}."),
            format!("A COD delivery needs `cod_collected_vnd` between 0 and {due}."),
        ),
        (Some(_), false, _) => error(
            "cod_not_due",
            "Chỉ ghi `cod_collected_vnd` khi giao thành công đơn thu hộ.".to_owned(),
            "`cod_collected_vnd` belongs only on the delivery of a COD job.".to_owned(),
        ),
        (None, false, Some(_)) => Err(AppError::invalid_field(
            "cod_shortfall_reason",
            "cod_shortfall_not_due",
            Text::new(
                "Chỉ ghi `cod_shortfall_reason` khi thu thiếu tiền lúc giao đơn thu hộ.",
                "`cod_shortfall_reason` belongs only on a COD delivery that collected less than due.",
            ),
        )),
    }
}

fn advance(
    conn: &mut Conn<'_>,
    job: &JobRow,
    event: &Event<'_>,
    cod_collected: Option<i64>,
    max_attempts: i32,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let mut change = JobChange { tracking_code: event.tracking_code, updated_at: Some(now), ..JobChange::default() };
    if event.status == JobStatus::PickupFailed {
        // Nothing left the farm: the job goes back to the pool for another try, counted like a lapsed lease.
        let attempts = job.attempts + 1;
        change.status = Some(JobStatus::Available);
        change.partner_id = Some(None);
        change.attempts = Some(attempts);
        change.needs_operator = Some(job.needs_operator || attempts >= max_attempts);
    } else {
        change.status = Some(event.status);
        change.cod_collected_vnd = cod_collected;
        change.delivered_at = (event.status == JobStatus::Delivered).then_some(now);
    }
    // From the first report on, the job no longer depends on a lease.
    change.lease_id = Some(None);
    change.lease_expires_at = Some(None);
    store::change_job(conn, job.id, &change)?;
    if matches!(event.status, JobStatus::Returned | JobStatus::Lost | JobStatus::Damaged) {
        progress::refund_if_paid(conn, job.shipment_id, now)?;
    }
    progress::refresh(conn, job.order_id, now)?;
    if let Some(collected) = cod_collected.filter(|_| event.status == JobStatus::Delivered) {
        tell_farmer_collected(conn, job, collected, now)?;
    }
    tell_buyer(conn, job, event.status, now)
}

/// Tells the farmer the carrier collected the cash for their delivered parcel.
fn tell_farmer_collected(
    conn: &mut Conn<'_>,
    job: &JobRow,
    collected: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (farmer_id, email, phone) = store::farmer_of(conn, job.shipment_id)?;
    let buyer = store::buyer_of(conn, job.order_id)?;
    let amount = format_vnd(collected);
    let values = [("code", buyer.order_code.as_str()), ("amount", amount.as_str())];
    let to = outbox::Person { user_id: Some(farmer_id), email: email.as_deref(), phone: phone.as_deref() };
    outbox::notify(conn, to, Template::PaymentCollected, Lang::Vi, &values, now)
}

/// Emails the buyer (through the outbox) at the moments they wait for.
fn tell_buyer(conn: &mut Conn<'_>, job: &JobRow, status: JobStatus, now: NaiveDateTime) -> Result<(), AppError> {
    let template = match status {
        JobStatus::PickedUp => Template::ParcelPickedUp,
        JobStatus::OutForDelivery => Template::ParcelOutForDelivery,
        JobStatus::Delivered => Template::ParcelDelivered,
        JobStatus::DeliveryFailed => Template::ParcelDeliveryFailed,
        _ => return Ok(()),
    };
    let buyer = store::buyer_of(conn, job.order_id)?;
    let values = [("name", buyer.name.as_str()), ("code", buyer.order_code.as_str())];
    let to = outbox::Person { user_id: buyer.buyer_id, email: buyer.email.as_deref(), phone: Some(&buyer.phone) };
    outbox::notify(conn, to, template, lang_of(&buyer.lang), &values, now)
}

/// One step of a shipment's delivery, as buyer, farmer and helper all see it.
#[derive(serde::Serialize, utoipa::ToSchema, Clone)]
pub struct TimelineEvent {
    pub status: JobStatus,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// False for a report that arrived after the parcel had moved on: kept for the record only.
    pub applied: bool,
    pub carrier_status: Option<String>,
    pub note: Option<String>,
}

/// Where a shipment is on its way to the buyer.
#[derive(serde::Serialize, utoipa::ToSchema, Clone)]
pub struct Delivery {
    pub status: JobStatus,
    /// The carrier holding the parcel, once one has it.
    pub carrier: Option<String>,
    pub tracking_code: Option<String>,
    pub events: Vec<TimelineEvent>,
}

/// The delivery of each shipment of an order that has a job, by shipment id.
pub fn deliveries(conn: &mut Conn<'_>, order_id: i64) -> Result<HashMap<i64, Delivery>, AppError> {
    let jobs = store::jobs_of_order(conn, order_id)?;
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
    let events = store::events(conn, &ids)?;
    let partner_ids: Vec<i64> = jobs.iter().filter_map(|job| job.partner_id).collect();
    let carriers: HashMap<i64, String> = store::partner_names(conn, &partner_ids)?.into_iter().collect();
    let mut deliveries = HashMap::new();
    for job in jobs {
        let status = job.status;
        let events = events
            .iter()
            .filter(|event| event.job_id == job.id)
            .map(|event| TimelineEvent {
                status: event.status,
                occurred_at: event.occurred_at.and_utc(),
                applied: event.applied,
                carrier_status: event.carrier_status.clone(),
                note: event.note.clone(),
            })
            .collect();
        let carrier = job.partner_id.filter(|_| status.is_picked_up()).and_then(|id| carriers.get(&id).cloned());
        deliveries.insert(job.shipment_id, Delivery { status, carrier, tracking_code: job.tracking_code, events });
    }
    Ok(deliveries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus, partner_id: Option<i64>, province: i32) -> JobRow {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        JobRow {
            id: 1,
            shipment_id: 1,
            order_id: 1,
            pickup_province_code: province,
            pickup_ward_code: 1,
            dropoff_province_code: 2,
            dropoff_ward_code: 2,
            weight_g: 1000,
            cod_vnd: 0,
            declared_value_vnd: 0,
            item_summary: String::new(),
            status,
            partner_id,
            lease_id: None,
            lease_expires_at: None,
            attempts: 0,
            needs_operator: false,
            tracking_code: None,
            cod_collected_vnd: None,
            delivered_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_holder_sees_contacts_until_fourteen_days_after_the_job_ended() {
        use crate::fulfilment::view::Holder;
        let mut delivered = job(JobStatus::Delivered, Some(7), 66);
        let ended = delivered.updated_at;
        let holder = |days: i64| Holder { partner_id: 7, now: ended + chrono::Duration::days(days) };
        assert!(holder(14).sees_details_of(&delivered));
        assert!(!holder(15).sees_details_of(&delivered));
        assert!(!Holder { partner_id: 8, now: ended }.sees_details_of(&delivered), "not the holder");
        delivered.status = JobStatus::InTransit;
        assert!(holder(400).sees_details_of(&delivered), "an open job keeps its details");
    }

    #[test]
    fn a_partner_sees_open_jobs_of_its_provinces_and_the_jobs_it_holds() {
        use JobStatus::*;
        let (me, other, mine, elsewhere) = (7, 8, 66, 1);
        let cases = [
            (job(Available, None, mine), true),
            (job(Available, None, elsewhere), false),
            (job(Claimed, Some(me), mine), true),
            (job(Claimed, Some(me), elsewhere), true),
            (job(Claimed, Some(other), mine), false),
            (job(Delivered, Some(me), mine), true),
            (job(Delivered, Some(other), mine), false),
            (job(Cancelled, None, mine), false),
        ];
        for (row, visible) in cases {
            let label = format!("{:?} held by {:?} in {}", row.status, row.partner_id, row.pickup_province_code);
            assert_eq!(visible_to(Some(row), me, &[mine]).is_ok(), visible, "{label}");
        }
        assert!(visible_to(None, me, &[mine]).is_err());
    }
}
