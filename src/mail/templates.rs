//! The emails' texts, one file per template and language in `assets/email/` (`{name}.{vi|en}.txt`, first
//! line `Subject: …`), compiled in. Placeholders are `{like_this}`.

use crate::error::Lang;

use super::Email;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    OrderPlaced,
    NewOrder,
    ShipmentRejected,
    OrderRejected,
    ShipmentExpired,
    OrderExpired,
    OrderCancelled,
    PaymentReceived,
    WelcomeBuyer,
    PinReset,
    ParcelPickedUp,
    ParcelOutForDelivery,
    ParcelDelivered,
    ParcelDeliveryFailed,
}

impl Template {
    pub const ALL: [Template; 14] = [
        Template::OrderPlaced,
        Template::NewOrder,
        Template::ShipmentRejected,
        Template::OrderRejected,
        Template::ShipmentExpired,
        Template::OrderExpired,
        Template::OrderCancelled,
        Template::PaymentReceived,
        Template::WelcomeBuyer,
        Template::PinReset,
        Template::ParcelPickedUp,
        Template::ParcelOutForDelivery,
        Template::ParcelDelivered,
        Template::ParcelDeliveryFailed,
    ];

    fn source(self, lang: Lang) -> &'static str {
        macro_rules! pick {
            ($name:literal) => {
                match lang {
                    Lang::Vi => include_str!(concat!("../../assets/email/", $name, ".vi.txt")),
                    Lang::En => include_str!(concat!("../../assets/email/", $name, ".en.txt")),
                }
            };
        }
        match self {
            Template::OrderPlaced => pick!("order_placed"),
            Template::NewOrder => pick!("new_order"),
            Template::ShipmentRejected => pick!("shipment_rejected"),
            Template::OrderRejected => pick!("order_rejected"),
            Template::ShipmentExpired => pick!("shipment_expired"),
            Template::OrderExpired => pick!("order_expired"),
            Template::OrderCancelled => pick!("order_cancelled"),
            Template::PaymentReceived => pick!("payment_received"),
            Template::WelcomeBuyer => pick!("welcome_buyer"),
            Template::PinReset => pick!("pin_reset"),
            Template::ParcelPickedUp => pick!("parcel_picked_up"),
            Template::ParcelOutForDelivery => pick!("parcel_out_for_delivery"),
            Template::ParcelDelivered => pick!("parcel_delivered"),
            Template::ParcelDeliveryFailed => pick!("parcel_delivery_failed"),
        }
    }

    /// The email to `to`, in `lang`, with each `{key}` replaced by its value.
    pub fn render(self, lang: Lang, to: &str, values: &[(&str, &str)]) -> Email {
        let mut text = self.source(lang).to_owned();
        for (key, value) in values {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        let (subject, body) = match text.split_once('\n') {
            Some((first, rest)) => {
                (first.strip_prefix("Subject: ").unwrap_or(first).to_owned(), rest.trim().to_owned())
            }
            None => (String::new(), text),
        };
        Email { to: to.to_owned(), subject, body }
    }
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
    ];

    #[test]
    fn every_template_renders_in_both_languages_without_leftover_placeholders() {
        for template in Template::ALL {
            for lang in [Lang::Vi, Lang::En] {
                let email = template.render(lang, "lan@example.vn", VALUES);
                assert!(!email.subject.is_empty() && !email.body.is_empty(), "{template:?} {lang:?}");
                assert!(!email.subject.contains('{') && !email.body.contains('{'), "{template:?} {lang:?}: {email:?}");
                assert!(!email.subject.starts_with("Subject"), "{template:?}");
            }
        }
        let placed = Template::OrderPlaced.render(Lang::En, "x@example.vn", VALUES);
        assert_eq!(placed.subject, "Order NS-7KQ-4M9-XHC received");
    }
}
