//! Push as well as pull: new jobs and cancellations are POSTed to the webhooks of the partners serving the
//! pickup province. Calls are queued in the outbox in the transaction of the change, so none is lost.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;

use super::store;
use crate::db::Conn;
use crate::db::schema::{outbox, partner_provinces, partner_webhooks};
use crate::error::AppError;
use crate::with_conn;

pub const JOB_AVAILABLE: &str = "job.available";
pub const JOB_CANCELLED: &str = "job.cancelled";

/// Queues one call per partner with a webhook that serves `province`, telling it `kind` happened to the job.
pub fn enqueue(
    conn: &mut Conn<'_>,
    province: i32,
    kind: &str,
    job_id: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let partners: Vec<i64> = with_conn!(conn, |c| partner_provinces::table
        .inner_join(partner_webhooks::table.on(partner_webhooks::partner_id.eq(partner_provinces::partner_id)))
        .filter(partner_provinces::province_code.eq(province))
        .select(partner_provinces::partner_id)
        .load(c))?;
    if partners.is_empty() {
        return Ok(());
    }
    let Some(job) = store::jobs(conn, &[job_id])?.pop() else { return Ok(()) };
    for partner_id in partners {
        let body = serde_json::json!({
            // Receivers drop a delivery whose event id they have seen: retries resend the same one.
            "event_id": format!("evt_{:032x}", rand::rng().random::<u128>()),
            "type": kind,
            "occurred_at": now.and_utc(),
            "job": {
                "id": job.id,
                "status": job.status,
                "pickup": {"ward_code": job.pickup_ward_code, "province_code": job.pickup_province_code},
                "dropoff": {"ward_code": job.dropoff_ward_code, "province_code": job.dropoff_province_code},
                "weight_g": job.weight_g,
                "cod_vnd": job.cod_vnd,
            },
        });
        let row = (
            outbox::channel.eq("webhook"),
            outbox::recipient.eq(partner_id.to_string()),
            outbox::subject.eq(kind),
            outbox::body.eq(body.to_string()),
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        );
        with_conn!(conn, |c| diesel::insert_into(outbox::table).values(&row).execute(c))?;
    }
    Ok(())
}
