//! What the operator's page of bank transfers to check says.

use super::words;

words!(Payments {
    title: "Chuyển khoản cần xem" / "Transfers to check",
    lead: "Những khoản tiền chưa tự khớp được với một đơn. Hãy xem nội dung chuyển khoản rồi chọn cách xử lý."
        / "Money that did not pay an order by itself. Read the transfer's memo, then choose what to do.",
    none_open: "Không có khoản nào cần xem." / "Nothing to check.",
    more_open: "Còn nhiều khoản nữa: xử lý các khoản này rồi mở lại trang."
        / "There are more: resolve these, then open the page again.",
    partial: "Chuyển thiếu" / "Less than the order owes",
    excess: "Chuyển thừa" / "More than the order owes",
    duplicate: "Đơn đã được trả rồi" / "The order was paid already",
    late: "Đơn đã huỷ trước khi tiền đến" / "The order was cancelled before the money came",
    unmatched: "Không tìm được đơn" / "No order found",
    amount: "Số tiền" / "Amount",
    order_owes: "Đơn cần trả" / "The order owes",
    memo: "Nội dung" / "Memo",
    bank: "Ngân hàng" / "Bank",
    at: "Lúc" / "At",
    order: "Đơn" / "Order",
    order_code: "Mã đơn được trả (để trống: đơn ghi trong nội dung)" / "Order it pays (empty: the one in the memo)",
    note: "Ghi chú" / "Note",
    apply: "Tính vào đơn" / "Apply to the order",
    refund: "Trả lại người chuyển" / "Refund the payer",
    ignore: "Đóng, không làm gì" / "Close, do nothing",
    applied_to: "Đã tính tiền vào đơn" / "Applied to order",
    refund_recorded: "Đã ghi khoản phải trả lại người chuyển." / "A refund owed to the payer is recorded.",
    closed: "Đã đóng khoản này." / "Closed.",
    owed_back: "Phải trả lại người chuyển:" / "Owed back to the payer:",
    back: "Về trang quản lý" / "Back to operations",
});
