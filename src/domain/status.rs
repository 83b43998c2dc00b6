//! The closed sets of words the service stores as text: roles, statuses, payment methods, audit actions.
//! Each is an enum, and this module is the one place that maps it to and from its column text (and its JSON
//! form, which is the same word). Code compares enums; no other module spells these words.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Declares an enum stored as text: `as_str`/`parse`, `ALL`, serde and OpenAPI as the same words (each word is
/// the snake_case of its variant, which a test checks), and diesel conversions for both backends (an unknown
/// word read from the database is a deserialisation error).
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<$name> {
                let text = String::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| format!("unknown {} `{text}`", stringify!($name)).into())
            }
        }
    };
}

text_enum! {
    /// What a person's account is for.
    pub enum Role {
        Farmer = "farmer",
        Buyer = "buyer",
        Helper = "helper",
        Operator = "operator",
    }
}

text_enum! {
    /// Whether buyers see a listing.
    pub enum ListingStatus {
        Active = "active",
        Paused = "paused",
        Archived = "archived",
    }
}

text_enum! {
    /// Where an order stands as a whole, derived from its shipments (`progress::order_status`).
    pub enum OrderStatus {
        /// A farmer has still to answer.
        Placed = "placed",
        /// Every farmer going ahead accepted; nothing has left a farm yet.
        Confirmed = "confirmed",
        /// A parcel is with a carrier.
        InDelivery = "in_delivery",
        /// Everything was delivered.
        Completed = "completed",
        /// Finished: some parcels were delivered, others were cancelled, rejected, expired or not delivered.
        PartlyCancelled = "partly_cancelled",
        /// Nothing will be delivered.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// A farmer's part of an order.
    pub enum ShipmentStatus {
        /// Waiting for the farmer's answer.
        Pending = "pending",
        Accepted = "accepted",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Why the system withdrew a shipment (a farmer's own reason is kept as they typed it).
    pub enum ReasonCode {
        /// The farmer did not answer in time.
        Expired = "expired",
        /// The bank transfer did not arrive in time.
        Unpaid = "unpaid",
        /// The buyer cancelled the order.
        BuyerCancelled = "buyer_cancelled",
    }
}

text_enum! {
    /// Money owed back to a buyer.
    pub enum RefundStatus {
        Owed = "owed",
        /// An operator paid it back.
        Done = "done",
    }
}

text_enum! {
    /// Money that did not add up, until an operator resolves it: cash on delivery collected short of what was
    /// due, or a bank transfer that paid no order by itself (`PaymentExceptionKind`).
    pub enum DiscrepancyStatus {
        Open = "open",
        Resolved = "resolved",
    }
}

text_enum! {
    /// How the buyer pays.
    pub enum PaymentMethod {
        /// Cash on delivery.
        Cod = "cod",
        /// VietQR bank transfer before the parcel leaves.
        BankTransfer = "bank_transfer",
    }
}

text_enum! {
    pub enum PaymentStatus {
        /// Paid in cash to the carrier on delivery.
        Cod = "cod",
        AwaitingTransfer = "awaiting_transfer",
        Paid = "paid",
        /// Cancelled before any money arrived.
        Void = "void",
    }
}

text_enum! {
    /// A fulfilment job's state; `fulfilment::machine` says which may follow which.
    pub enum JobStatus {
        Available = "available",
        Claimed = "claimed",
        PickedUp = "picked_up",
        PickupFailed = "pickup_failed",
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        DeliveryFailed = "delivery_failed",
        Delivered = "delivered",
        Returning = "returning",
        Returned = "returned",
        Lost = "lost",
        Damaged = "damaged",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Whether an outbox row still has to go out.
    pub enum OutboxStatus {
        Pending = "pending",
        Sent = "sent",
        /// A partner call that kept failing: no more attempts, left for an operator to see.
        Failed = "failed",
    }
}

text_enum! {
    /// How an outbox row leaves.
    pub enum Channel {
        Email = "email",
        /// A signed POST to a partner's webhook (`recipient` is the partner's id).
        Webhook = "webhook",
        /// A Zalo ZNS template message to a phone (`recipient` in E.164); handed over to `Sms` when the number
        /// has no Zalo, refuses ZNS, or ZNS is not set up. Before `Sms`, so one sender pass hands over and sends.
        Zns = "zns",
        /// A text message to a phone (`recipient` in E.164).
        Sms = "sms",
    }
}

text_enum! {
    /// What became of a text reply forwarded to `/sms/inbound` (its answer, and the record of the reply).
    pub enum ReplyOutcome {
        /// Recorded, being handled (only ever seen inside the transaction that handles it).
        Received = "received",
        Accepted = "accepted",
        Rejected = "rejected",
        /// Several orders wait and the reply named none of them (or another one): the farmer was sent the list.
        AskedWhichOrder = "asked_which_order",
        NothingWaiting = "nothing_waiting",
        /// Not an answer: the farmer was sent how to answer.
        Help = "help",
        /// The phone is no farmer's: nothing changed and nothing was sent.
        UnknownSender = "unknown_sender",
        /// This gateway id was handled before: nothing changed.
        Duplicate = "duplicate",
    }
}

text_enum! {
    /// What a helper did for a farmer, as the farmer reads it in their audit log.
    pub enum AuditAction {
        Enroll = "enroll",
        ViewProfile = "view_profile",
        UpdateProfile = "update_profile",
        PinReset = "pin_reset",
        UploadPhoto = "upload_photo",
        CreateListing = "create_listing",
        UpdateListing = "update_listing",
        ViewListings = "view_listings",
        ViewShipments = "view_shipments",
        AcceptShipment = "accept_shipment",
        RejectShipment = "reject_shipment",
        /// The farmer answered by replying to the "new order" text (the actor is the farmer).
        AcceptShipmentBySms = "accept_shipment_by_sms",
        RejectShipmentBySms = "reject_shipment_by_sms",
        ViewCod = "view_cod",
    }
}

text_enum! {
    /// How a partner's hold on a job ended without a pickup.
    pub enum HoldEnding {
        /// The partner gave it back.
        Released = "released",
        /// The lease ran out.
        Lapsed = "lapsed",
    }
}

text_enum! {
    /// Whom an operator can suspend.
    pub enum Suspendable {
        Helper = "helper",
        Team = "team",
        Partner = "partner",
        Farmer = "farmer",
    }
}

text_enum! {
    /// What an operator did, in the operators' audit log.
    pub enum OperatorAction {
        Suspend = "suspend",
        Reinstate = "reinstate",
        /// Applied, refunded or ignored a bank transfer in the exceptions list.
        ResolvePaymentException = "resolve_payment_exception",
        /// Read everything about an order (the buyer's phone and address among it).
        ReadOrder = "read_order",
        /// Took a listing out of the catalogue, with a reason the farmer is told.
        HideListing = "hide_listing",
        UnhideListing = "unhide_listing",
    }
}

text_enum! {
    /// What an operator's act was about, in the operators' audit log: whom they can suspend, an order, a
    /// listing, a payment exception.
    pub enum OperatorSubject {
        Helper = "helper",
        Team = "team",
        Partner = "partner",
        Farmer = "farmer",
        PaymentException = "payment_exception",
        Order = "order",
        Listing = "listing",
    }
}

impl From<Suspendable> for OperatorSubject {
    fn from(subject: Suspendable) -> OperatorSubject {
        match subject {
            Suspendable::Helper => OperatorSubject::Helper,
            Suspendable::Team => OperatorSubject::Team,
            Suspendable::Partner => OperatorSubject::Partner,
            Suspendable::Farmer => OperatorSubject::Farmer,
        }
    }
}

text_enum! {
    /// Which way money moved on the service's bank account (a bank notification's `transferType`).
    pub enum TransferDirection {
        In = "in",
        Out = "out",
    }
}

text_enum! {
    /// What became of a bank transfer.
    pub enum TransferOutcome {
        /// It paid the order its memo names, for the exact amount due.
        Paid = "paid",
        /// Money leaving the account: kept, never matched.
        Outgoing = "outgoing",
        /// It waits in the exceptions list (`PaymentExceptionKind` says why).
        Exception = "exception",
    }
}

text_enum! {
    /// Why a bank transfer paid no order by itself.
    pub enum PaymentExceptionKind {
        /// Less than the order awaits.
        Partial = "partial",
        /// More than the order awaits.
        Excess = "excess",
        /// The order is paid already.
        Duplicate = "duplicate",
        /// The order was cancelled (or expired) unpaid before the money came.
        Late = "late",
        /// No order awaiting a transfer is named by the memo (or it is paid in cash).
        Unmatched = "unmatched",
    }
}

text_enum! {
    /// What an operator does with a payment exception.
    pub enum ExceptionResolution {
        /// The money pays an order (what it pays beyond the order is owed back to the payer).
        Apply = "apply",
        /// The money is owed back to the payer.
        Refund = "refund",
        /// Closed with a note, the money kept.
        Ignore = "ignore",
    }
}

text_enum! {
    /// What an audited action touched.
    pub enum AuditEntity {
        Farmer = "farmer",
        Media = "media",
        Listing = "listing",
        Shipment = "shipment",
    }
}

text_enum! {
    /// What a farmer lets a community team do for them (`consents`); reading the farmer's own pages needs a
    /// live consent of any purpose.
    pub enum ConsentPurpose {
        /// List and edit produce, upload its photos, change the name and commune buyers see.
        ListProduce = "list_produce",
        /// Accept or reject orders, and turn automatic acceptance on or off.
        AnswerOrders = "answer_orders",
        /// Set a new PIN the farmer types, after an in-person check.
        ResetPin = "reset_pin",
    }
}

text_enum! {
    /// How a farmer gave a consent.
    pub enum ConsentGivenBy {
        /// In their own app (`POST /me/consents`).
        Farmer = "farmer",
        /// In person, typing their PIN on the helper's phone.
        InPerson = "in_person",
        /// When a helper enrolled them, on the helper's phone.
        Enrolment = "enrolment",
    }
}

impl AuditAction {
    /// What a helper changed for a farmer, which the farmer hears of in the daily digest; their looks at the
    /// farmer's pages (and a photo, which comes with its listing) are only in the farmer's audit list.
    pub const CHANGES: [AuditAction; 7] = [
        AuditAction::Enroll,
        AuditAction::UpdateProfile,
        AuditAction::PinReset,
        AuditAction::CreateListing,
        AuditAction::UpdateListing,
        AuditAction::AcceptShipment,
        AuditAction::RejectShipment,
    ];

    /// The kind of thing the action is about; the audit row names its id when there is one.
    pub fn entity(self) -> AuditEntity {
        use AuditAction::*;
        match self {
            Enroll | ViewProfile | UpdateProfile | PinReset | ViewListings | ViewShipments | ViewCod => {
                AuditEntity::Farmer
            }
            UploadPhoto => AuditEntity::Media,
            CreateListing | UpdateListing => AuditEntity::Listing,
            AcceptShipment | RejectShipment | AcceptShipmentBySms | RejectShipmentBySms => AuditEntity::Shipment,
        }
    }
}

text_enum! {
    /// What the rows of the impact report are.
    pub enum ReportGroup {
        Province = "province",
        Ward = "ward",
        Month = "month",
        /// The team of the helper who enrolled the farmer (or made the listing).
        Team = "team",
        Helper = "helper",
    }
}

text_enum! {
    /// A duration the impact report gives the median of.
    pub enum DurationMeasure {
        /// From the order to the farmer's acceptance.
        Accept = "accept",
        /// From the order to the delivery.
        Deliver = "deliver",
    }
}

impl ShipmentStatus {
    /// Waiting for the farmer's answer: what accepting and expiry move from.
    pub const WAITING: &'static [ShipmentStatus] = &[ShipmentStatus::Pending];
    /// Still going ahead: what a rejection or a cancellation moves from (fulfilment refuses once picked up).
    pub const GOING_AHEAD: &'static [ShipmentStatus] = &[ShipmentStatus::Pending, ShipmentStatus::Accepted];
}

impl OrderStatus {
    /// Not finished yet: a person cannot erase their data while one of their orders is still under way.
    pub const OPEN: &'static [OrderStatus] = &[OrderStatus::Placed, OrderStatus::Confirmed, OrderStatus::InDelivery];
}

impl PaymentMethod {
    /// How an order paid this way starts out.
    pub fn initial_status(self) -> PaymentStatus {
        match self {
            PaymentMethod::Cod => PaymentStatus::Cod,
            PaymentMethod::BankTransfer => PaymentStatus::AwaitingTransfer,
        }
    }
}

/// SQL literal of a word, for the few raw statements that must name one (partial-index predicates).
pub fn sql_literal(word: &str) -> String {
    format!("'{}'", word.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T], text: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
    {
        for value in all {
            assert_eq!(parse(text(*value)), Some(*value));
            let json = serde_json::to_string(value).expect("json");
            assert_eq!(json, format!("\"{}\"", text(*value)), "serde writes the column word");
            assert_eq!(serde_json::from_str::<T>(&json).expect("json"), *value);
        }
        assert_eq!(parse("teleported"), None);
    }

    #[test]
    fn every_word_round_trips() {
        round_trips(Role::ALL, Role::as_str, Role::parse);
        round_trips(ListingStatus::ALL, ListingStatus::as_str, ListingStatus::parse);
        round_trips(OrderStatus::ALL, OrderStatus::as_str, OrderStatus::parse);
        round_trips(ShipmentStatus::ALL, ShipmentStatus::as_str, ShipmentStatus::parse);
        round_trips(ReasonCode::ALL, ReasonCode::as_str, ReasonCode::parse);
        round_trips(RefundStatus::ALL, RefundStatus::as_str, RefundStatus::parse);
        round_trips(DiscrepancyStatus::ALL, DiscrepancyStatus::as_str, DiscrepancyStatus::parse);
        round_trips(PaymentMethod::ALL, PaymentMethod::as_str, PaymentMethod::parse);
        round_trips(PaymentStatus::ALL, PaymentStatus::as_str, PaymentStatus::parse);
        round_trips(JobStatus::ALL, JobStatus::as_str, JobStatus::parse);
        round_trips(OutboxStatus::ALL, OutboxStatus::as_str, OutboxStatus::parse);
        round_trips(Channel::ALL, Channel::as_str, Channel::parse);
        round_trips(ReplyOutcome::ALL, ReplyOutcome::as_str, ReplyOutcome::parse);
        round_trips(AuditAction::ALL, AuditAction::as_str, AuditAction::parse);
        round_trips(AuditEntity::ALL, AuditEntity::as_str, AuditEntity::parse);
        round_trips(HoldEnding::ALL, HoldEnding::as_str, HoldEnding::parse);
        round_trips(Suspendable::ALL, Suspendable::as_str, Suspendable::parse);
        round_trips(OperatorAction::ALL, OperatorAction::as_str, OperatorAction::parse);
        round_trips(OperatorSubject::ALL, OperatorSubject::as_str, OperatorSubject::parse);
        round_trips(TransferDirection::ALL, TransferDirection::as_str, TransferDirection::parse);
        round_trips(TransferOutcome::ALL, TransferOutcome::as_str, TransferOutcome::parse);
        round_trips(PaymentExceptionKind::ALL, PaymentExceptionKind::as_str, PaymentExceptionKind::parse);
        round_trips(ExceptionResolution::ALL, ExceptionResolution::as_str, ExceptionResolution::parse);
        round_trips(ConsentPurpose::ALL, ConsentPurpose::as_str, ConsentPurpose::parse);
        round_trips(ConsentGivenBy::ALL, ConsentGivenBy::as_str, ConsentGivenBy::parse);
    }

    #[test]
    fn serde_uses_the_column_words() {
        assert_eq!(serde_json::to_string(&JobStatus::OutForDelivery).expect("json"), "\"out_for_delivery\"");
        assert_eq!(
            serde_json::from_str::<PaymentMethod>("\"bank_transfer\"").expect("json"),
            PaymentMethod::BankTransfer
        );
    }

    #[test]
    fn sql_literals_are_quoted() {
        assert_eq!(sql_literal(ListingStatus::Active.as_str()), "'active'");
        assert_eq!(sql_literal("o'k"), "'o''k'");
    }
}
