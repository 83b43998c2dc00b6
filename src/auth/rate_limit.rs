//! Throttles: how many times something may happen per subject (an account, a client address, a phone, an
//! order, a farmer) in a window. Counted in Redis when configured, so all instances see the same count; in
//! process otherwise. The login lockout always holds; the others follow `NONGSAN_THROTTLE` and their settings
//! (`config::ThrottleSettings`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use actix_web::{HttpRequest, web};

use crate::auth::secrets::token_hash;
use crate::cache::Cache;
use crate::domain::phone::Phone;
use crate::error::{AppError, Kind, Text};
use crate::state::AppState;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// What a refused caller is told: a code of its own and a sentence (the wait is added).
struct Refusal {
    code: &'static str,
    vi: &'static str,
    en: &'static str,
}

const FAILED_LOGINS: Refusal =
    Refusal {
        code: "too_many_attempts", vi: "Bạn đã nhập sai quá nhiều lần.", en: "Too many failed attempts."
    };
const SIGN_UPS: Refusal = Refusal {
    code: "too_many_sign_ups",
    vi: "Có quá nhiều lượt đăng ký từ mạng này hoặc với số điện thoại này.",
    en: "Too many sign-ups from this network or with this phone number.",
};
const GUEST_ORDERS: Refusal = Refusal {
    code: "too_many_orders",
    vi: "Có quá nhiều đơn hàng được đặt với số điện thoại này hoặc từ mạng này.",
    en: "Too many orders were placed with this phone number or from this network.",
};
const FAILED_LOOKUPS: Refusal = Refusal {
    code: "too_many_lookups",
    vi: "Đơn hàng này đã bị tra cứu sai số điện thoại quá nhiều lần.",
    en: "This order was looked up with a wrong phone number too many times.",
};
const PHOTOS: Refusal = Refusal {
    code: "too_many_photos",
    vi: "Bạn đã tải lên quá nhiều ảnh hôm nay.",
    en: "Too many photos were uploaded today.",
};
const SEARCHES: Refusal = Refusal {
    code: "too_many_searches",
    vi: "Có quá nhiều lượt tìm kiếm từ mạng này.",
    en: "Too many searches from this network.",
};

pub struct Limit {
    name: &'static str,
    max: u64,
    window: Duration,
    refusal: &'static Refusal,
}

/// 5 wrong PINs or passwords per account in 15 minutes: a 6-digit PIN cannot be guessed online.
pub const PER_ACCOUNT: Limit =
    Limit { name: "login:account", max: 5, window: Duration::from_secs(15 * 60), refusal: &FAILED_LOGINS };
/// Per client address, across accounts: stops one device from walking through many phones.
pub const PER_ADDRESS: Limit =
    Limit { name: "login:address", max: 50, window: Duration::from_secs(15 * 60), refusal: &FAILED_LOGINS };

/// "5 phút", "2 giờ": the wait, in minutes up to two hours, in hours beyond.
fn wait(resets_in: Duration) -> (String, String) {
    let minutes = resets_in.as_secs().div_ceil(60).max(1);
    match minutes {
        1 => ("1 phút".into(), "1 minute".into()),
        2..=120 => (format!("{minutes} phút"), format!("{minutes} minutes")),
        _ => {
            let hours = minutes.div_ceil(60);
            (format!("{hours} giờ"), format!("{hours} hours"))
        }
    }
}

fn too_many(refusal: &Refusal, resets_in: Duration) -> AppError {
    let (vi, en) = wait(resets_in);
    let mut error = AppError::new(
        Kind::TooManyRequests,
        refusal.code,
        Text::new(
            format!("{} Vui lòng thử lại sau {vi}.", refusal.vi),
            format!("{} Please try again in {en}.", refusal.en),
        ),
    );
    error.set_retry_after(resets_in.as_secs().max(1));
    error
}

impl Limit {
    /// Keys hold a hash of the subject: phone numbers and addresses do not end up in Redis in clear. They
    /// all start `rate:`, which no cached page's key does.
    fn key(&self, subject: &str) -> String {
        format!("rate:{}:{}", self.name, &token_hash(subject)[..24])
    }

    /// 429 with `Retry-After` once the count reached the limit.
    pub async fn check(&self, cache: &Cache, subject: &str) -> Result<(), AppError> {
        let count = cache.count(&self.key(subject)).await;
        if count.count < self.max { Ok(()) } else { Err(too_many(self.refusal, count.resets_in)) }
    }

    /// Takes one from the budget, refusing past the limit. Counting first makes the limit hold under
    /// concurrency: a burst of parallel requests cannot all pass a check made before any of them is recorded.
    pub async fn take(&self, cache: &Cache, subject: &str) -> Result<(), AppError> {
        let count = cache.increment(&self.key(subject), self.window).await;
        if count.count <= self.max { Ok(()) } else { Err(too_many(self.refusal, count.resets_in)) }
    }

    pub async fn record_failure(&self, cache: &Cache, subject: &str) {
        cache.increment(&self.key(subject), self.window).await;
    }

    pub async fn reset(&self, cache: &Cache, subject: &str) {
        cache.reset(&self.key(subject)).await;
    }
}

/// The throttles that `NONGSAN_THROTTLE=off` lifts, with the configured budgets.
pub struct Throttles<'a> {
    cache: &'a Cache,
    settings: &'a crate::config::ThrottleSettings,
}

impl<'a> Throttles<'a> {
    pub fn of(state: &'a AppState) -> Throttles<'a> {
        Throttles { cache: &state.cache, settings: &state.settings.throttles }
    }

    async fn take(
        &self,
        name: &'static str,
        max: u64,
        window: Duration,
        refusal: &'static Refusal,
        subject: &str,
    ) -> Result<(), AppError> {
        if !self.settings.enabled {
            return Ok(());
        }
        Limit { name, max, window, refusal }.take(self.cache, subject).await
    }

    /// Whether these throttles count at all (`NONGSAN_THROTTLE=off` lifts them).
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// A sign-up (farmer or buyer), accepted or not: a refused one still costs a hash check or tells whether
    /// a phone has an account. Phones count in E.164, however typed.
    pub async fn sign_up(&self, address: &str, phone: Option<&str>) -> Result<(), AppError> {
        let s = self.settings;
        self.take("signup:address", s.signups_per_address, HOUR, &SIGN_UPS, address).await?;
        let Some(typed) = phone else { return Ok(()) };
        let phone = Phone::parse(typed).map_or_else(|_| typed.trim().to_owned(), |p| p.as_str().to_owned());
        self.take("signup:phone", s.signups_per_phone, HOUR, &SIGN_UPS, &phone).await
    }

    /// An order placed without an account (called once per `Idempotency-Key`: a replay does not count).
    pub async fn guest_order(&self, address: &str, phone: &str) -> Result<(), AppError> {
        let s = self.settings;
        self.take("order:phone", s.guest_orders_per_phone, HOUR, &GUEST_ORDERS, phone).await?;
        self.take("order:address", s.guest_orders_per_address, HOUR, &GUEST_ORDERS, address).await
    }

    /// A look-up of order `code` with a wrong phone: 404 as before, 429 past the limit.
    pub async fn failed_lookup(&self, code: &str) -> AppError {
        let limit = self.settings.failed_lookups_per_order;
        match self.take("lookup:order", limit, HOUR, &FAILED_LOOKUPS, code).await {
            Ok(()) => AppError::not_found(),
            Err(too_many) => too_many,
        }
    }

    /// A photo uploaded for farmer `farmer_id` (by them or a helper), before it is decoded.
    pub async fn photo_upload(&self, farmer_id: i64) -> Result<(), AppError> {
        let max = self.settings.photos_per_farmer;
        self.take("photo:farmer", max, DAY, &PHOTOS, &farmer_id.to_string()).await
    }

    /// A quote or a search from a client address.
    pub async fn search(&self, address: &str) -> Result<(), AppError> {
        self.take("search:address", self.settings.searches_per_address, MINUTE, &SEARCHES, address).await
    }
}

/// The client a request comes from, as counted by the per-address limits: the connection's address, or the
/// last value of the `NONGSAN_TRUSTED_PROXY` header when one is named (the hop our proxy saw; values before
/// it are whatever the client wrote). IPv6 counts per /64, the block one subscriber gets.
pub fn client_address(req: &HttpRequest) -> String {
    let proxy_header =
        req.app_data::<web::Data<AppState>>().and_then(|state| state.settings.throttles.trusted_proxy.clone());
    let forwarded = proxy_header.and_then(|header| forwarded_address(req, &header));
    forwarded.or_else(|| req.peer_addr().map(|peer| peer.ip())).map(counted_address).unwrap_or_default()
}

fn forwarded_address(req: &HttpRequest, header: &str) -> Option<IpAddr> {
    let last_line = req.headers().get_all(header).last()?;
    let last = last_line.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse::<IpAddr>().ok().or_else(|| last.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
}

/// An IPv4 address as is; an IPv6 address as its /64 (an IPv4-mapped one as the IPv4 address).
fn counted_address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn ipv6_counts_per_64_and_ipv4_as_is() {
        let count = |text: &str| counted_address(text.parse().expect("ip"));
        assert_eq!(count("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(count("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
        assert_ne!(count("2001:db8:1:3::1"), count("2001:db8:1:2::1"));
        assert_eq!(count("203.0.113.7"), "203.0.113.7");
        assert_eq!(count("::ffff:203.0.113.7"), "203.0.113.7");
    }

    #[test]
    fn the_last_hop_of_the_trusted_header_counts() {
        let req = TestRequest::default()
            .insert_header(("X-Forwarded-For", "10.0.0.1, 198.51.100.4"))
            .append_header(("X-Forwarded-For", "1.1.1.1, 203.0.113.9"))
            .to_http_request();
        assert_eq!(forwarded_address(&req, "x-forwarded-for"), Some("203.0.113.9".parse().expect("ip")));
        let with_port = TestRequest::default().insert_header(("X-Real-IP", "[2001:db8::5]:443")).to_http_request();
        assert_eq!(forwarded_address(&with_port, "X-Real-IP"), Some("2001:db8::5".parse().expect("ip")));
        let garbage = TestRequest::default().insert_header(("X-Real-IP", "nonsense")).to_http_request();
        assert_eq!(forwarded_address(&garbage, "X-Real-IP"), None);
    }

    #[test]
    fn the_wait_is_told_in_minutes_then_hours() {
        assert_eq!(wait(Duration::from_secs(20)).1, "1 minute");
        assert_eq!(wait(Duration::from_secs(15 * 60)).0, "15 phút");
        assert_eq!(wait(Duration::from_secs(23 * 3600 + 1)).1, "24 hours");
    }
}
