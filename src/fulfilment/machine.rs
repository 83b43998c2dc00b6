//! The forward-only life of a fulfilment job, as a plain function of (current state, reported state).
//!
//! ```text
//! available -> claimed -> picked_up -> in_transit -> out_for_delivery <-> delivery_failed -> delivered
//!                  |                                         \                 \
//!                  +-> pickup_failed                           +-> returning -> returned
//! any state from picked_up up to returning -> lost | damaged
//! ```
//! Carriers skip scans, so any later step on the same path may follow directly. A report of a step the job
//! has already passed is late: it joins the history but moves nothing.

use crate::domain::status::JobStatus;

/// What a reported status does to a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The job moves to the reported status.
    Advance,
    /// The job is already at or past it: recorded in the history only.
    Late,
    /// It cannot follow the current state (409 with the current state).
    Impossible,
}

use JobStatus::*;

/// The delivery path and the return path; a status's position on them orders it against the others.
const DELIVERY: [JobStatus; 6] = [Claimed, PickedUp, InTransit, OutForDelivery, DeliveryFailed, Delivered];
const RETURN: [JobStatus; 7] = [Claimed, PickedUp, InTransit, OutForDelivery, DeliveryFailed, Returning, Returned];

impl JobStatus {
    /// Statuses a partner may report in an event.
    pub fn is_reportable(self) -> bool {
        !matches!(self, Available | Claimed | Cancelled)
    }

    /// Nothing follows these.
    pub fn is_final(self) -> bool {
        matches!(self, PickupFailed | Delivered | Returned | Lost | Damaged | Cancelled)
    }

    /// Whether the parcel is in the carrier's hands (so the order can no longer be cancelled).
    pub fn is_picked_up(self) -> bool {
        !matches!(self, Available | Claimed | PickupFailed | Cancelled)
    }
}

/// Whether `later` can come after `earlier` in one job's history.
fn follows(earlier: JobStatus, later: JobStatus) -> bool {
    let on = |path: &[JobStatus]| {
        let position = |status| path.iter().position(|s| *s == status);
        matches!((position(earlier), position(later)), (Some(a), Some(b)) if a < b)
    };
    match later {
        PickupFailed => earlier == Claimed,
        Lost | Damaged => matches!(earlier, PickedUp | InTransit | OutForDelivery | DeliveryFailed | Returning),
        _ => on(&DELIVERY) || on(&RETURN),
    }
}

/// What `reported` does to a job that is `current`.
pub fn step(current: JobStatus, reported: JobStatus) -> Step {
    if !reported.is_reportable() || matches!(current, Available | Cancelled) {
        return Step::Impossible;
    }
    // A failed delivery is tried again: the one move back the carriers need.
    if current == DeliveryFailed && reported == OutForDelivery {
        return Step::Advance;
    }
    if !current.is_final() && follows(current, reported) {
        Step::Advance
    } else if reported == current || follows(reported, current) {
        Step::Late
    } else {
        Step::Impossible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_path_moves_forward_and_may_skip_scans() {
        assert_eq!(step(Claimed, PickedUp), Step::Advance);
        assert_eq!(step(PickedUp, InTransit), Step::Advance);
        assert_eq!(step(PickedUp, Delivered), Step::Advance);
        assert_eq!(step(OutForDelivery, DeliveryFailed), Step::Advance);
        assert_eq!(step(DeliveryFailed, OutForDelivery), Step::Advance);
        assert_eq!(step(DeliveryFailed, Returning), Step::Advance);
        assert_eq!(step(Returning, Returned), Step::Advance);
        assert_eq!(step(InTransit, Lost), Step::Advance);
        assert_eq!(step(Claimed, PickupFailed), Step::Advance);
    }

    #[test]
    fn late_reports_never_move_a_job_back() {
        assert_eq!(step(Delivered, InTransit), Step::Late);
        assert_eq!(step(Delivered, Delivered), Step::Late);
        assert_eq!(step(Returned, OutForDelivery), Step::Late);
        assert_eq!(step(OutForDelivery, PickedUp), Step::Late);
        assert_eq!(step(InTransit, InTransit), Step::Late);
    }

    #[test]
    fn impossible_reports_are_refused() {
        assert_eq!(step(Cancelled, PickedUp), Step::Impossible);
        assert_eq!(step(Available, PickedUp), Step::Impossible);
        assert_eq!(step(Delivered, Returning), Step::Impossible);
        assert_eq!(step(Returning, Delivered), Step::Impossible);
        assert_eq!(step(PickedUp, PickupFailed), Step::Impossible);
        assert_eq!(step(Delivered, Lost), Step::Impossible);
        assert_eq!(step(Claimed, Claimed), Step::Impossible);
        assert_eq!(step(PickedUp, Cancelled), Step::Impossible);
    }

    #[test]
    fn no_advance_leads_back_to_an_earlier_step_except_a_retried_delivery() {
        for &current in JobStatus::ALL {
            for &reported in JobStatus::ALL {
                if step(current, reported) == Step::Advance && (current, reported) != (DeliveryFailed, OutForDelivery) {
                    assert!(!follows(reported, current), "{current:?} -> {reported:?} goes back");
                    assert!(!current.is_final(), "{current:?} is final");
                }
            }
        }
    }
}
