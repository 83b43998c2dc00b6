//! What the pages say, in Vietnamese and English: one struct per part of the app, so a template can only name
//! a text that exists in both languages (the compiler checks it).

pub mod buyer;
pub mod farmer;
pub mod lookups;
pub mod payments;
pub mod people;

use crate::error::Lang;

/// Declares a set of texts: `words! { Common { search: "Tìm" / "Search", } }` makes `Common` with its
/// Vietnamese and English values and `Common::of(lang)`.
macro_rules! words {
    ($name:ident { $($key:ident: $vi:literal / $en:literal,)* }) => {
        pub struct $name {
            $(pub $key: &'static str,)*
        }

        impl $name {
            const VI: $name = $name { $($key: $vi,)* };
            const EN: $name = $name { $($key: $en,)* };

            pub fn of(lang: $crate::error::Lang) -> &'static $name {
                match lang {
                    $crate::error::Lang::Vi => &Self::VI,
                    $crate::error::Lang::En => &Self::EN,
                }
            }
        }
    };
}
pub(crate) use words;

words!(Common {
    brand: "Nông Sản" / "Nông Sản",
    other_language: "English" / "Tiếng Việt",
    search: "Tìm" / "Search",
    basket: "Giỏ hàng" / "Basket",
    orders: "Đơn hàng" / "Orders",
    seller: "Người bán" / "Sellers",
    farmer_home: "Đơn mới" / "New orders",
    sell: "Đăng bán" / "Sell",
    my_listings: "Hàng của tôi" / "My produce",
    money: "Tiền hàng" / "Money",
    households: "Hộ dân" / "Households",
    operator: "Quản lý" / "Manage",
    log_out: "Đăng xuất" / "Log out",
    acting_for: "Đang làm thay" / "Acting for",
    stop_acting: "Xong" / "Done",
    queued: "Đang chờ mạng để gửi" / "Waiting for the network to send",
    queued_listings: "tin đăng bán" / "listing(s)",
    queued_answers: "trả lời đơn hàng" / "answer(s) to orders",
    queued_later: "Máy sẽ tự gửi khi có mạng." / "It is sent by itself when the network returns.",
    queue_failed: "Không gửi được, hãy làm lại:" / "Could not be sent, please do it again:",
    queue_discard: "Bỏ" / "Discard",
    error_title: "Có lỗi" / "Something went wrong",
    back_home: "Về trang chủ" / "Back to the start",
    per: "/" / "/",
    not_for_you: "Trang này không dành cho tài khoản của bạn" / "This page is not for your account",
    delete: "Xoá" / "Delete",
    keypad: "Bàn phím số" / "Number keys",
});

/// The code of a language, for `<html lang>`.
pub fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "vi",
        Lang::En => "en",
    }
}
