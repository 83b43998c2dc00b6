//! A job as a partner sees it: places and weights for everyone who may claim it; names, phones, streets and
//! contents only for the partner holding it, and no longer than [`DETAILS_KEPT`] after the job ended.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, JobRow};
use crate::db::Conn;
use crate::domain::status::JobStatus;
use crate::error::AppError;
use crate::reference::{PlaceRef, Places};

#[derive(Serialize, ToSchema)]
pub struct Stop {
    pub ward: PlaceRef,
    pub province: PlaceRef,
}

#[derive(Serialize, ToSchema)]
pub struct Contact {
    pub name: String,
    pub phone: Option<String>,
    pub address: String,
}

/// What only the partner holding a job sees.
#[derive(Serialize, ToSchema)]
pub struct JobDetails {
    pub order_code: String,
    /// What is in the parcel, e.g. "Sầu riêng Ri6 × 20 kg".
    pub items: String,
    pub pickup: Contact,
    pub dropoff: Contact,
}

#[derive(Serialize, ToSchema)]
pub struct Lease {
    /// Fencing token: needed to release, extend, and for the first report until pickup.
    pub lease_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Job {
    pub id: i64,
    pub status: JobStatus,
    pub pickup: Stop,
    pub dropoff: Stop,
    pub weight_g: i64,
    /// Cash to collect from the buyer (0 when paid by transfer).
    pub cod_vnd: i64,
    pub declared_value_vnd: i64,
    /// Claims of this job that ran out without a pickup.
    pub attempts: i32,
    pub tracking_code: Option<String>,
    pub cod_collected_vnd: Option<i64>,
    /// Names, phones, streets and contents: only once this partner has claimed the job, until 14 days after
    /// it ended.
    pub details: Option<JobDetails>,
    /// The live lease, while the job is claimed by this partner.
    pub lease: Option<Lease>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<Job>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClaimedJobs {
    pub jobs: Vec<Job>,
}

/// How long after a job ended (delivered, returned, lost, …) its holder still sees names, phones and streets:
/// long enough for a complaint or a return, not a contact list to keep.
pub const DETAILS_KEPT: Duration = Duration::days(14);

/// The partner looking at jobs, at the time it looks.
#[derive(Clone, Copy, Debug)]
pub struct Holder {
    pub partner_id: i64,
    pub now: NaiveDateTime,
}

impl Holder {
    /// Whether this partner sees the job's personal details now.
    pub fn sees_details_of(&self, job: &JobRow) -> bool {
        job.partner_id == Some(self.partner_id) && !(job.status.is_final() && job.updated_at + DETAILS_KEPT < self.now)
    }
}

/// Builds the views of some jobs; `holder` sees the details of the jobs it holds (see [`Holder`]).
pub fn job_views(
    conn: &mut Conn<'_>,
    places: &Places,
    jobs: Vec<JobRow>,
    holder: Option<Holder>,
) -> Result<Vec<Job>, AppError> {
    let held: Vec<i64> =
        jobs.iter().filter(|job| holder.is_some_and(|h| h.sees_details_of(job))).map(|job| job.id).collect();
    let contacts: HashMap<i64, store::ContactRow> =
        store::contacts(conn, &held)?.into_iter().map(|row| (row.0, row)).collect();
    let stop =
        |ward: i32, province: i32| Stop { ward: places.ward_place(ward), province: places.province_place(province) };
    Ok(jobs
        .into_iter()
        .map(|job| {
            let pickup = stop(job.pickup_ward_code, job.pickup_province_code);
            let dropoff = stop(job.dropoff_ward_code, job.dropoff_province_code);
            let details =
                contacts.get(&job.id).map(|(_, code, farmer, farmer_phone, buyer, buyer_phone, street)| JobDetails {
                    order_code: code.clone(),
                    items: job.item_summary.clone(),
                    pickup: Contact {
                        name: farmer.clone(),
                        phone: farmer_phone.clone(),
                        address: format!("{}, {}", pickup.ward.name, pickup.province.name),
                    },
                    dropoff: Contact {
                        name: buyer.clone(),
                        phone: Some(buyer_phone.clone()),
                        address: format!("{street}, {}, {}", dropoff.ward.name, dropoff.province.name),
                    },
                });
            let lease = match (&job.lease_id, job.lease_expires_at, details.is_some()) {
                (Some(lease_id), Some(expires_at), true) => {
                    Some(Lease { lease_id: lease_id.clone(), expires_at: expires_at.and_utc() })
                }
                _ => None,
            };
            Job {
                id: job.id,
                status: job.status,
                pickup,
                dropoff,
                weight_g: job.weight_g,
                cod_vnd: job.cod_vnd,
                declared_value_vnd: job.declared_value_vnd,
                attempts: job.attempts,
                tracking_code: job.tracking_code,
                cod_collected_vnd: job.cod_collected_vnd,
                details,
                lease,
                created_at: job.created_at.and_utc(),
            }
        })
        .collect())
}
