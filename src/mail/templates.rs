//! What messages say, one file per template and language, compiled in: emails in `assets/email/`
//! (`{kind}.{vi|en}.txt`, first line `Subject: …`) and the one-line texts sent to phones (SMS, and the
//! fallback of a Zalo message) in `assets/sms/`. Placeholders are `{like_this}`.

use crate::error::Lang;

use super::Email;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    OrderPlaced,
    NewOrder,
    ShipmentReminder,
    ShipmentAccepted,
    ShipmentRejected,
    OrderRejected,
    ShipmentExpired,
    OrderExpired,
    OrderCancelled,
    FarmerOrderCancelled,
    PaymentReceived,
    PaymentCollected,
    WelcomeBuyer,
    PinReset,
    /// What helpers changed for a farmer in a day.
    HelperDigest,
    ParcelPickedUp,
    ParcelOutForDelivery,
    ParcelDelivered,
    ParcelDeliveryFailed,
    /// Answers to a farmer's text reply (text only).
    ReplyAccepted,
    ReplyRejected,
    ReplyChooseOrder,
    ReplyNothingWaiting,
    ReplyHelp,
    /// A guest buyer's one-time code to export or erase their orders' data (text only).
    PrivacyCode,
    /// An operator hid one of the farmer's listings, and why.
    ListingHidden,
}

impl Template {
    pub const ALL: [Template; 26] = [
        Template::OrderPlaced,
        Template::NewOrder,
        Template::ShipmentReminder,
        Template::ShipmentAccepted,
        Template::ShipmentRejected,
        Template::OrderRejected,
        Template::ShipmentExpired,
        Template::OrderExpired,
        Template::OrderCancelled,
        Template::FarmerOrderCancelled,
        Template::PaymentReceived,
        Template::PaymentCollected,
        Template::WelcomeBuyer,
        Template::PinReset,
        Template::HelperDigest,
        Template::ParcelPickedUp,
        Template::ParcelOutForDelivery,
        Template::ParcelDelivered,
        Template::ParcelDeliveryFailed,
        Template::ReplyAccepted,
        Template::ReplyRejected,
        Template::ReplyChooseOrder,
        Template::ReplyNothingWaiting,
        Template::ReplyHelp,
        Template::PrivacyCode,
        Template::ListingHidden,
    ];

    /// The message kind: the file name of its texts, the `kind` of its outbox rows and metrics, and the key of
    /// its Zalo template in `ZNS_TEMPLATES`.
    pub fn kind(self) -> &'static str {
        match self {
            Template::OrderPlaced => "order_placed",
            Template::NewOrder => "new_order",
            Template::ShipmentReminder => "shipment_reminder",
            Template::ShipmentAccepted => "shipment_accepted",
            Template::ShipmentRejected => "shipment_rejected",
            Template::OrderRejected => "order_rejected",
            Template::ShipmentExpired => "shipment_expired",
            Template::OrderExpired => "order_expired",
            Template::OrderCancelled => "order_cancelled",
            Template::FarmerOrderCancelled => "farmer_order_cancelled",
            Template::PaymentReceived => "payment_received",
            Template::PaymentCollected => "payment_collected",
            Template::WelcomeBuyer => "welcome_buyer",
            Template::PinReset => "pin_reset",
            Template::HelperDigest => "helper_digest",
            Template::ParcelPickedUp => "parcel_picked_up",
            Template::ParcelOutForDelivery => "parcel_out_for_delivery",
            Template::ParcelDelivered => "parcel_delivered",
            Template::ParcelDeliveryFailed => "parcel_delivery_failed",
            Template::ReplyAccepted => "reply_accepted",
            Template::ReplyRejected => "reply_rejected",
            Template::ReplyChooseOrder => "reply_choose_order",
            Template::ReplyNothingWaiting => "reply_nothing_waiting",
            Template::ReplyHelp => "reply_help",
            Template::PrivacyCode => "privacy_code",
            Template::ListingHidden => "listing_hidden",
        }
    }

    /// Sent however the person chose to be told: they must hear that someone changed how their account is
    /// entered.
    pub fn protects_the_account(self) -> bool {
        matches!(self, Template::PinReset)
    }

    /// A farmer's new order (answer it before the deadline or lose it) and an order cancelled before it
    /// ships: texts the per-phone cap never drops. Each stands for a real order on the farmer's own listing,
    /// which buyers' throttles and the listing's stock already bound; a busy farmer gets more than the cap an
    /// hour.
    pub fn must_reach_the_farmer(self) -> bool {
        matches!(self, Template::NewOrder | Template::FarmerOrderCancelled)
    }

    /// Reminders and digests wait out the night; everything else tells of something that just happened and
    /// goes at once.
    pub fn waits_for_daytime(self) -> bool {
        matches!(self, Template::ShipmentReminder | Template::HelperDigest)
    }

    /// The message's texts in `lang`: its email (`Subject: …` first) and its one-line text to phones (SMS,
    /// and the fallback of a Zalo message), each if it has one. The welcome is email-only (it answers an
    /// email sign-up); the answers to a farmer's reply are text-only.
    fn sources(self, lang: Lang) -> Sources {
        macro_rules! read {
            ($dir:literal, $name:literal) => {
                Some(match lang {
                    Lang::Vi => include_str!(concat!("../../assets/", $dir, "/", $name, ".vi.txt")),
                    Lang::En => include_str!(concat!("../../assets/", $dir, "/", $name, ".en.txt")),
                })
            };
        }
        macro_rules! both {
            ($name:literal) => {
                Sources { email: read!("email", $name), text: read!("sms", $name) }
            };
        }
        macro_rules! text_only {
            ($name:literal) => {
                Sources { email: None, text: read!("sms", $name) }
            };
        }
        match self {
            Template::OrderPlaced => both!("order_placed"),
            Template::NewOrder => both!("new_order"),
            Template::ShipmentReminder => both!("shipment_reminder"),
            Template::ShipmentAccepted => both!("shipment_accepted"),
            Template::ShipmentRejected => both!("shipment_rejected"),
            Template::OrderRejected => both!("order_rejected"),
            Template::ShipmentExpired => both!("shipment_expired"),
            Template::OrderExpired => both!("order_expired"),
            Template::OrderCancelled => both!("order_cancelled"),
            Template::FarmerOrderCancelled => both!("farmer_order_cancelled"),
            Template::PaymentReceived => both!("payment_received"),
            Template::PaymentCollected => both!("payment_collected"),
            Template::WelcomeBuyer => Sources { email: read!("email", "welcome_buyer"), text: None },
            Template::PinReset => both!("pin_reset"),
            Template::HelperDigest => both!("helper_digest"),
            Template::ParcelPickedUp => both!("parcel_picked_up"),
            Template::ParcelOutForDelivery => both!("parcel_out_for_delivery"),
            Template::ParcelDelivered => both!("parcel_delivered"),
            Template::ParcelDeliveryFailed => both!("parcel_delivery_failed"),
            Template::ReplyAccepted => text_only!("reply_accepted"),
            Template::ReplyRejected => text_only!("reply_rejected"),
            Template::ReplyChooseOrder => text_only!("reply_choose_order"),
            Template::ReplyNothingWaiting => text_only!("reply_nothing_waiting"),
            Template::ReplyHelp => text_only!("reply_help"),
            Template::PrivacyCode => text_only!("privacy_code"),
            Template::ListingHidden => both!("listing_hidden"),
        }
    }

    /// The email to `to`, in `lang`, with each `{key}` replaced by its value; `None` for a text-only message.
    pub fn render(self, lang: Lang, to: &str, values: &[(&str, &str)]) -> Option<Email> {
        let text = fill(self.sources(lang).email?, values);
        let (subject, body) = match text.split_once('\n') {
            Some((first, rest)) => {
                (first.strip_prefix("Subject: ").unwrap_or(first).to_owned(), rest.trim().to_owned())
            }
            None => (String::new(), text),
        };
        Some(Email { to: to.to_owned(), subject, body })
    }

    /// The text message in `lang` with its values filled in (with diacritics: the SMS sender strips them
    /// unless Unicode SMS is on); `None` for an email-only message.
    pub fn text(self, lang: Lang, values: &[(&str, &str)]) -> Option<String> {
        Some(fill(self.sources(lang).text?, values).trim().to_owned())
    }
}

/// What a message says in one language, by email and by text.
struct Sources {
    email: Option<&'static str>,
    text: Option<&'static str>,
}

fn fill(source: &str, values: &[(&str, &str)]) -> String {
    let mut text = source.to_owned();
    for (key, value) in values {
        text = text.replace(&format!("{{{key}}}"), value);
    }
    text
}

/// The language an order's emails are written in, as stored with the order.
pub fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Vi }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: &[(&str, &str)] = &[
        ("name", "Lan"),
        ("code", "NS-7KQ-4M9-XHC"),
        ("total", "125000"),
        ("hours", "24"),
        ("reason", "hết hàng"),
        ("money", "Bạn không phải trả tiền cho phần này."),
        ("helper_name", "Minh"),
        ("time", "08:00 23/11/2026"),
        ("items", "2 kg Sầu riêng Ri6"),
        ("deadline", "08:00 24/11"),
        ("payment", ""),
        ("orders", "NS-7KQ-4M9-XHC, NS-M4N-C9G-2R9"),
        ("amount", "125.000đ"),
        ("day", "23/11"),
        ("helpers", "Minh"),
        ("count", "3"),
        ("otp", "482915"),
        ("minutes", "15"),
        ("title", "Xoài cát Hòa Lộc"),
    ];

    #[test]
    fn every_template_renders_in_both_languages_without_leftover_placeholders() {
        for template in Template::ALL {
            for lang in [Lang::Vi, Lang::En] {
                if let Some(email) = template.render(lang, "lan@example.vn", VALUES) {
                    assert!(!email.subject.is_empty() && !email.body.is_empty(), "{template:?} {lang:?}");
                    assert!(
                        !email.subject.contains('{') && !email.body.contains('{'),
                        "{template:?} {lang:?}: {email:?}"
                    );
                    assert!(!email.subject.starts_with("Subject"), "{template:?}");
                }
                if let Some(text) = template.text(lang, VALUES) {
                    assert!(!text.is_empty() && !text.contains('{') && !text.contains('\n'), "{template:?}: {text}");
                }
                assert!(
                    template.render(lang, "x", VALUES).is_some() || template.text(lang, VALUES).is_some(),
                    "{template:?} says nothing"
                );
            }
        }
        let placed = Template::OrderPlaced.render(Lang::En, "x@example.vn", VALUES).expect("an email");
        assert_eq!(placed.subject, "Order NS-7KQ-4M9-XHC received");
    }

    #[test]
    fn every_text_of_an_order_fits_one_segment() {
        // A long product name, a bank transfer's instructions and a refund sentence: the texts' worst case
        // short of a long typed reason.
        let values: &[(&str, &str)] = &[
            ("name", "Nguyễn Thị Lan"),
            ("code", "NS-7KQ-4M9-XHC"),
            ("total", "1.250.000đ"),
            ("payment", " Chuyển khoản 1.250.000đ vào TK 0011001234567, nội dung NS-7KQ-4M9-XHC."),
            ("items", "10 kg Sầu riêng Ri6 loại 1"),
            ("deadline", "08:00 24/11"),
            ("reason", "hết hàng"),
            ("money", "Bạn đã thanh toán nên sẽ được hoàn lại 1.250.000đ."),
            ("helper_name", "Cán bộ Minh"),
            ("time", "08:00 23/11/2026"),
            ("amount", "1.250.000đ"),
            ("orders", "NS-7KQ-4M9-XHC, NS-M4N-C9G-2R9, NS-4M9-XHC-7KQ, NS-C9G-2R9-M4N"),
            ("otp", "482915"),
            ("minutes", "15"),
            ("title", "Sầu riêng Ri6 loại 1"),
        ];
        for template in Template::ALL {
            for lang in [Lang::Vi, Lang::En] {
                if let Some(text) = template.text(lang, values) {
                    let sms = crate::sms::prepare(&text, false);
                    assert_eq!(sms.segments, 1, "{template:?} {lang:?}: {} characters: {}", sms.text.len(), sms.text);
                }
            }
        }
        let new_order = Template::NewOrder.text(Lang::Vi, values).expect("a text");
        assert_eq!(crate::sms::prepare(&new_order, true).segments, 2, "Unicode: 70 characters a segment");
    }
}
