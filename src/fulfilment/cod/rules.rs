//! COD rules: periods of Vietnam days, checking a remittance, and recording it once.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use super::store;
use super::{Remittance, RemittanceRequest};
use crate::clock::{VIETNAM_UTC_OFFSET_HOURS, in_vietnam};
use crate::db::Conn;
use crate::domain::status::JobStatus;
use crate::domain::text::optional_text;
use crate::error::{AppError, FieldError, Kind, Text};

/// The longest period a COD view covers, in days (a leap year).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The most jobs one remittance settles.
pub const MAX_REMITTANCE_JOBS: usize = 1_000;

/// The calendar day in Vietnam at a UTC instant.
pub fn vietnam_date(at: NaiveDateTime) -> NaiveDate {
    in_vietnam(at).date()
}

/// Whole Vietnam days, `from` to `to` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn date_error(field: &str, code: &'static str, vi: String, en: String) -> FieldError {
    FieldError::new(field, code, Text::new(vi, en))
}

fn parse_date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    let Some(text) = text else { return Ok(None) };
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    // Four-digit years only: the bounds below never overflow.
    date.filter(|d| (1000..=9999).contains(&chrono::Datelike::year(d))).map(Some).ok_or_else(|| {
        date_error(
            field,
            "date_invalid",
            format!("`{field}` phải là ngày dạng YYYY-MM-DD, ví dụ 2026-11-23."),
            format!("`{field}` must be a date as YYYY-MM-DD, e.g. 2026-11-23."),
        )
    })
}

impl Period {
    /// The period asked for: `to` defaults to `today`, `from` to `to`; `from` may not follow `to`, and the
    /// period spans at most [`MAX_PERIOD_DAYS`].
    pub fn parse(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> Result<Period, AppError> {
        let from = parse_date("from", from);
        let to = parse_date("to", to);
        let (from, to) = crate::validate!(from, to);
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to);
        if from > to {
            return Err(AppError::validation(vec![date_error(
                "from",
                "period_reversed",
                "`from` không được sau `to`.".to_owned(),
                "`from` cannot be after `to`.".to_owned(),
            )]));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(AppError::validation(vec![date_error(
                "to",
                "period_too_long",
                format!("Mỗi lần xem tối đa {MAX_PERIOD_DAYS} ngày."),
                format!("A period spans at most {MAX_PERIOD_DAYS} days."),
            )]));
        }
        Ok(Period { from, to })
    }

    /// The period as UTC instants: [start, end).
    pub fn utc_bounds(&self) -> (NaiveDateTime, NaiveDateTime) {
        let offset = Duration::hours(VIETNAM_UTC_OFFSET_HOURS);
        let start = self.from.and_time(chrono::NaiveTime::MIN) - offset;
        let end = self.to.and_time(chrono::NaiveTime::MIN) + Duration::days(1) - offset;
        (start, end)
    }
}

/// A remittance request whose fields are valid; `job_ids` in the order sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedRemittance {
    pub remittance_id: String,
    pub amount_vnd: i64,
    pub job_ids: Vec<i64>,
}

fn check_job_ids(ids: Vec<i64>) -> Result<Vec<i64>, FieldError> {
    if ids.is_empty() || ids.len() > MAX_REMITTANCE_JOBS {
        return Err(FieldError::new(
            "job_ids",
            "job_ids_count",
            Text::new(
                format!("Cần từ 1 đến {MAX_REMITTANCE_JOBS} mã việc."),
                format!("Send 1 to {MAX_REMITTANCE_JOBS} job ids."),
            ),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    if let Some(index) = ids.iter().position(|id| !seen.insert(*id)) {
        return Err(FieldError::new(
            format!("job_ids[{index}]"),
            "job_id_repeated",
            Text::new(format!("Mã việc {} bị lặp lại.", ids[index]), format!("Job {} is listed twice.", ids[index])),
        ));
    }
    Ok(ids)
}

/// Checks every field of a remittance request (all problems at once).
pub fn check_remittance(body: RemittanceRequest) -> Result<CheckedRemittance, AppError> {
    let remittance_id = optional_text("remittance_id", Some(&body.remittance_id), 100).and_then(|id| {
        id.ok_or_else(|| {
            FieldError::new(
                "remittance_id",
                "remittance_id_required",
                Text::new(
                    "Cần `remittance_id` để không ghi một lần nộp tiền hai lần.",
                    "`remittance_id` is required, so a resend is not recorded twice.",
                ),
            )
        })
    });
    let amount_vnd = if body.amount_vnd >= 0 {
        Ok(body.amount_vnd)
    } else {
        Err(FieldError::new(
            "amount_vnd",
            "amount_negative",
            Text::new("`amount_vnd` không được âm.", "`amount_vnd` cannot be negative."),
        ))
    };
    let job_ids = check_job_ids(body.job_ids);
    let (remittance_id, amount_vnd, job_ids) = crate::validate!(remittance_id, amount_vnd, job_ids);
    Ok(CheckedRemittance { remittance_id, amount_vnd, job_ids })
}

/// SHA-256 (hex) of the request in a canonical form: the same remittance hashes the same whatever the order
/// of its job ids. The id has no control characters, so the lines cannot run into each other.
pub fn request_hash(remittance: &CheckedRemittance) -> String {
    let mut ids = remittance.job_ids.clone();
    ids.sort_unstable();
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let canonical = format!("{}\n{}\n{}", remittance.remittance_id, remittance.amount_vnd, ids.join(","));
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A job of the partner as a remittance sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemittableJob {
    pub id: i64,
    pub status: JobStatus,
    pub cod_collected_vnd: Option<i64>,
    /// The `cod_remittances` row it was settled by.
    pub remittance: Option<i64>,
}

/// Why each requested job cannot be remitted (none when all can). `found` holds the partner's own jobs among
/// the requested ones; a job missing from it is unknown or another partner's, which is not told apart.
pub fn job_problems(requested: &[i64], found: &[RemittableJob]) -> Vec<FieldError> {
    requested
        .iter()
        .enumerate()
        .filter_map(|(index, id)| {
            let (code, vi, en): (_, &str, &str) = match found.iter().find(|job| job.id == *id) {
                None => ("job_unknown", "không phải việc của đơn vị này", "is not a job of this partner"),
                Some(job) if job.status != JobStatus::Delivered => {
                    ("job_not_delivered", "chưa giao thành công", "is not delivered")
                }
                Some(job) if job.cod_collected_vnd.is_none() => {
                    ("cod_not_collected", "không có tiền thu hộ", "had no cash to collect")
                }
                Some(job) if job.remittance.is_some() => {
                    ("job_already_remitted", "đã nằm trong một lần nộp tiền khác", "is already in another remittance")
                }
                Some(_) => return None,
            };
            Some(FieldError::new(
                format!("job_ids[{index}]"),
                code,
                Text::new(format!("Việc {id} {vi}."), format!("Job {id} {en}.")),
            ))
        })
        .collect()
}

/// The sum of the COD collected on the jobs.
pub fn collected_sum(jobs: &[RemittableJob]) -> i64 {
    jobs.iter().filter_map(|job| job.cod_collected_vnd).fold(0_i64, i64::saturating_add)
}

fn not_remittable(problems: Vec<FieldError>) -> AppError {
    let mut error = AppError::new(
        Kind::Unprocessable,
        "jobs_not_remittable",
        Text::new("Một số việc không thể đưa vào lần nộp tiền này.", "Some jobs cannot be part of this remittance."),
    );
    error.set_errors(problems);
    error
}

fn amount_mismatch(expected: i64, sent: i64) -> AppError {
    let mut error = AppError::new(
        Kind::Unprocessable,
        "amount_mismatch",
        Text::new(
            format!("Số tiền nộp phải bằng tổng tiền đã thu của các việc: {expected} đồng (gửi {sent})."),
            format!("The amount must equal the COD collected on these jobs: {expected} VND (sent {sent})."),
        ),
    );
    error.set_errors(vec![FieldError::new(
        "amount_vnd",
        "amount_mismatch",
        Text::new(format!("Phải là {expected}."), format!("Must be {expected}.")),
    )]);
    error
}

fn remittance_id_reused() -> AppError {
    AppError::new(
        Kind::Unprocessable,
        "remittance_id_reused",
        Text::new(
            "`remittance_id` này đã dùng cho một lần nộp tiền khác; hãy dùng mã mới.",
            "This `remittance_id` was used for a different remittance; use a new id.",
        ),
    )
}

fn remittance_conflict() -> AppError {
    AppError::new(
        Kind::Conflict,
        "remittance_conflict",
        Text::new(
            "Lần nộp tiền này đang được ghi cùng lúc bởi một yêu cầu khác; hãy thử lại.",
            "This remittance is being recorded by another request at the same time; retry.",
        ),
    )
}

/// Records a remittance in the caller's transaction, or answers the one recorded before under its id.
pub fn record(
    conn: &mut Conn<'_>,
    partner_id: i64,
    remittance: &CheckedRemittance,
    now: NaiveDateTime,
) -> Result<Remittance, AppError> {
    let hash = request_hash(remittance);
    // Locking the jobs first (PostgreSQL) queues an identical concurrent request behind this one, so it then
    // finds the remittance recorded and answers it; SQLite's one writer does that by itself.
    let jobs = store::lock_jobs(conn, partner_id, &remittance.job_ids)?;
    if let Some(stored) = store::remittance(conn, partner_id, &remittance.remittance_id)? {
        return replay(conn, stored, &hash);
    }
    let problems = job_problems(&remittance.job_ids, &jobs);
    if !problems.is_empty() {
        return Err(not_remittable(problems));
    }
    let expected = collected_sum(&jobs);
    if expected != remittance.amount_vnd {
        return Err(amount_mismatch(expected, remittance.amount_vnd));
    }
    let new = store::NewRemittance {
        partner_id,
        remittance_id: &remittance.remittance_id,
        amount_vnd: remittance.amount_vnd,
        request_hash: &hash,
        created_at: now,
    };
    let Some(id) = store::insert_remittance(conn, &new)? else {
        // UNIQUE (partner_id, remittance_id): another request recorded this id first.
        let stored = store::remittance(conn, partner_id, &remittance.remittance_id)?;
        return replay(conn, stored.ok_or_else(remittance_conflict)?, &hash);
    };
    if store::attach_jobs(conn, id, &remittance.job_ids)? != remittance.job_ids.len() {
        return Err(remittance_conflict());
    }
    let stored = store::remittance(conn, partner_id, &remittance.remittance_id)?;
    answer(conn, stored.ok_or_else(remittance_conflict)?)
}

fn replay(conn: &mut Conn<'_>, stored: store::RemittanceRow, hash: &str) -> Result<Remittance, AppError> {
    if stored.request_hash != hash {
        return Err(remittance_id_reused());
    }
    answer(conn, stored)
}

fn answer(conn: &mut Conn<'_>, stored: store::RemittanceRow) -> Result<Remittance, AppError> {
    Ok(Remittance {
        job_ids: store::remitted_job_ids(conn, stored.id)?,
        remittance_id: stored.remittance_id,
        amount_vnd: stored.amount_vnd,
        created_at: stored.created_at.and_utc(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fulfilment::cod::CodFigures;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn codes(error: &AppError) -> Vec<&str> {
        error.errors.iter().map(|e| e.code).collect()
    }

    #[test]
    fn a_vietnam_day_starts_at_five_in_the_afternoon_utc() {
        let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time");
        assert_eq!(vietnam_date(at("2026-11-23 16:59:59")), date("2026-11-23"));
        assert_eq!(vietnam_date(at("2026-11-23 17:00:00")), date("2026-11-24"));
        let period = Period { from: date("2026-11-23"), to: date("2026-11-24") };
        assert_eq!(period.utc_bounds(), (at("2026-11-22 17:00:00"), at("2026-11-24 17:00:00")));
    }

    #[test]
    fn periods_default_to_today_and_are_checked() {
        let today = date("2026-11-23");
        assert_eq!(Period::parse(None, None, today).expect("today"), Period { from: today, to: today });
        let to_only = Period::parse(None, Some("2026-11-01"), today).expect("to");
        assert_eq!((to_only.from, to_only.to), (date("2026-11-01"), date("2026-11-01")));
        let from_only = Period::parse(Some("2026-11-01"), None, today).expect("from");
        assert_eq!((from_only.from, from_only.to), (date("2026-11-01"), today));
        let year = Period::parse(Some("2028-01-01"), Some("2028-12-31"), today).expect("a leap year");
        assert_eq!((year.to - year.from).num_days(), 365);

        let bad = Period::parse(Some("23/11/2026"), Some("2026-02-30"), today).expect_err("bad dates");
        assert_eq!(codes(&bad), ["date_invalid", "date_invalid"]);
        let huge = Period::parse(Some("+262143-01-01"), None, today).expect_err("far year");
        assert_eq!(codes(&huge), ["date_invalid"]);
        let reversed = Period::parse(Some("2026-11-24"), Some("2026-11-23"), today).expect_err("reversed");
        assert_eq!(codes(&reversed), ["period_reversed"]);
        let long = Period::parse(Some("2026-01-01"), Some("2027-01-02"), today).expect_err("too long");
        assert_eq!(codes(&long), ["period_too_long"]);
    }

    #[test]
    fn remittance_fields_are_checked_together() {
        let body = RemittanceRequest { remittance_id: " ".into(), amount_vnd: -1, job_ids: vec![1, 2, 1] };
        let error = check_remittance(body).expect_err("invalid");
        assert_eq!(codes(&error), ["remittance_id_required", "amount_negative", "job_id_repeated"]);
        assert_eq!(error.errors[2].field, "job_ids[2]");
        let many = RemittanceRequest { remittance_id: "r".repeat(101), amount_vnd: 0, job_ids: (0..1_001).collect() };
        assert_eq!(codes(&check_remittance(many).expect_err("invalid")), ["text_too_long", "job_ids_count"]);
        let none = RemittanceRequest { remittance_id: "r1".into(), amount_vnd: 0, job_ids: vec![] };
        assert_eq!(codes(&check_remittance(none).expect_err("invalid")), ["job_ids_count"]);
        let fine = RemittanceRequest { remittance_id: " r1 ".into(), amount_vnd: 5, job_ids: vec![3, 1] };
        let fine = check_remittance(fine).expect("valid");
        assert_eq!((fine.remittance_id.as_str(), fine.job_ids.as_slice()), ("r1", [3, 1].as_slice()));
    }

    #[test]
    fn the_hash_ignores_job_order_but_not_the_rest() {
        let base = CheckedRemittance { remittance_id: "r1".into(), amount_vnd: 10, job_ids: vec![1, 2] };
        let reordered = CheckedRemittance { job_ids: vec![2, 1], ..base.clone() };
        assert_eq!(request_hash(&base), request_hash(&reordered));
        assert_eq!(request_hash(&base).len(), 64);
        for other in [
            CheckedRemittance { amount_vnd: 11, ..base.clone() },
            CheckedRemittance { job_ids: vec![1], ..base.clone() },
            CheckedRemittance { remittance_id: "r2".into(), ..base.clone() },
        ] {
            assert_ne!(request_hash(&base), request_hash(&other));
        }
    }

    #[test]
    fn each_job_that_cannot_be_remitted_says_why() {
        let job = |id, status, cod, remittance| RemittableJob { id, status, cod_collected_vnd: cod, remittance };
        let found = vec![
            job(1, JobStatus::Delivered, Some(100), None),
            job(2, JobStatus::InTransit, None, None),
            job(3, JobStatus::Delivered, None, None),
            job(4, JobStatus::Delivered, Some(50), Some(9)),
            job(5, JobStatus::Delivered, Some(0), None),
        ];
        let problems = job_problems(&[1, 2, 3, 4, 5, 6], &found);
        let found_codes: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.code)).collect();
        assert_eq!(
            found_codes,
            [
                ("job_ids[1]", "job_not_delivered"),
                ("job_ids[2]", "cod_not_collected"),
                ("job_ids[3]", "job_already_remitted"),
                ("job_ids[5]", "job_unknown"),
            ]
        );
        assert!(job_problems(&[5, 1], &found).is_empty());
        assert_eq!(collected_sum(&found[..1]), 100);
        assert_eq!(collected_sum(&found), 150);
    }

    #[test]
    fn outstanding_is_collected_less_remitted() {
        let sum = CodFigures::new(2, 300, 100) + CodFigures::new(1, 50, 50);
        assert_eq!(sum, CodFigures { jobs: 3, collected_vnd: 350, remitted_vnd: 150, outstanding_vnd: 200 });
    }
}
