//! A farmer's monthly statement: what was delivered in a month of Vietnam time, what the buyers paid for it
//! and how, and where the farmer's share stands. Payouts from the marketplace to farmers are not modelled, so
//! "paid out" counts the farmer's share once its money has reached the marketplace, as `/me/cod` does: cash
//! on delivery when the carrier remits it, a bank transfer when the shipment is delivered (it was paid before
//! it was sent). Plain functions over the farmer's delivered shipments (`store::statement_deliveries`).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::StatementDelivery;
use crate::clock::{VIETNAM_UTC_OFFSET_HOURS, in_vietnam};
use crate::domain::status::PaymentMethod;
use crate::error::{AppError, Lang, Text};

/// A calendar month in Vietnam (UTC+7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first_day: NaiveDate,
}

impl Month {
    /// `YYYY-MM` (four-digit years), else 422 `month_invalid`.
    pub fn parse(text: &str) -> Result<Month, AppError> {
        let text = text.trim();
        let month = text
            .split_once('-')
            .filter(|(year, month)| {
                year.len() == 4 && month.len() == 2 && (year.chars().chain(month.chars())).all(|c| c.is_ascii_digit())
            })
            .and_then(|(year, month)| NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1))
            .filter(|day| day.year() >= 1000);
        month.map(|first_day| Month { first_day }).ok_or_else(|| {
            AppError::invalid_field(
                "month",
                "month_invalid",
                Text::new(
                    "`month` phải là một tháng dạng YYYY-MM, ví dụ 2026-11.",
                    "`month` must be a month as YYYY-MM, e.g. 2026-11.",
                ),
            )
        })
    }

    /// The month asked for, or the month in Vietnam at `now`.
    pub fn parse_or_current(text: Option<&str>, now: NaiveDateTime) -> Result<Month, AppError> {
        text.map_or_else(|| Ok(Month::containing(now)), Month::parse)
    }

    /// The month in Vietnam at a UTC instant.
    pub fn containing(at: NaiveDateTime) -> Month {
        let day = in_vietnam(at).date();
        Month { first_day: day.with_day(1).unwrap_or(day) }
    }

    pub fn next(self) -> Month {
        Month { first_day: self.first_day.checked_add_months(chrono::Months::new(1)).unwrap_or(self.first_day) }
    }

    pub fn previous(self) -> Month {
        Month { first_day: self.first_day.checked_sub_months(chrono::Months::new(1)).unwrap_or(self.first_day) }
    }

    /// The month as UTC instants: [start, end).
    pub fn utc_bounds(self) -> (NaiveDateTime, NaiveDateTime) {
        let offset = Duration::hours(VIETNAM_UTC_OFFSET_HOURS);
        let start = |month: Month| month.first_day.and_time(chrono::NaiveTime::MIN) - offset;
        (start(self), start(self.next()))
    }

    /// `12/2026`, as people write a month.
    pub fn as_people_write_it(self) -> String {
        self.first_day.format("%m/%Y").to_string()
    }
}

impl fmt::Display for Month {
    /// `2026-12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first_day.format("%Y-%m"))
    }
}

/// The figures of one month of Vietnam time. Every amount is in VND. A delivery counts in the month the
/// carrier reported it delivered; shipments declined, cancelled or not delivered count nowhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthFigures {
    /// Shipments delivered in the month.
    pub deliveries: i64,
    /// Goods sold: the price of the goods of the shipments delivered in the month.
    pub goods_sold_vnd: i64,
    /// The delivery fees of those shipments. Buyers pay them, for the carrier: not the farmer's money, shown
    /// for information.
    pub shipping_fees_vnd: i64,
    /// Cash the carriers collected from buyers on the month's cash-on-delivery deliveries (goods plus fee).
    pub cod_collected_vnd: i64,
    /// Cash collected short of what was due on those deliveries (each stands as a discrepancy until an
    /// operator resolves it).
    pub cod_shortfall_vnd: i64,
    /// What buyers had transferred (goods plus fee) for the month's deliveries paid by bank transfer: such an
    /// order is sent only once paid.
    pub transfers_received_vnd: i64,
    /// The farmer's share of the month's deliveries: what buyers paid, less the delivery fee (per delivery,
    /// never below 0), as `/me/cod` counts it.
    pub earned_vnd: i64,
    /// The farmer's share of earlier deliveries that carriers still held when the month began.
    pub owed_at_start_vnd: i64,
    /// The farmer's share that reached the marketplace in the month: cash on delivery when the carrier
    /// remitted it, a transfer when the shipment was delivered. Payouts from the marketplace to farmers are
    /// not modelled: this is the money that arrived for them.
    pub paid_out_vnd: i64,
    /// The farmer's share that carriers still held when the month ended:
    /// `owed_at_start_vnd + earned_vnd - paid_out_vnd`.
    pub still_owed_vnd: i64,
}

/// When the farmer's share of a delivery reached the marketplace: a transfer at delivery (it was paid before
/// it was sent), cash on delivery when the carrier remitted it; `None` while the carrier holds it.
fn arrived_at(delivery: &StatementDelivery) -> Option<NaiveDateTime> {
    if delivery.payment_method == PaymentMethod::Cod { delivery.remitted_at } else { Some(delivery.delivered_at) }
}

/// The farmer's share still held by carriers at `at`: delivered before it, not arrived before it.
fn owed_at(deliveries: &[StatementDelivery], at: NaiveDateTime) -> i64 {
    deliveries
        .iter()
        .filter(|d| d.delivered_at < at && arrived_at(d).is_none_or(|arrived| arrived >= at))
        .map(|d| d.share_vnd)
        .sum()
}

/// The month's figures over every delivered shipment of the farmer.
pub fn month_figures(deliveries: &[StatementDelivery], month: Month) -> MonthFigures {
    let (start, end) = month.utc_bounds();
    let within = |at: NaiveDateTime| start <= at && at < end;
    let mut figures = MonthFigures {
        owed_at_start_vnd: owed_at(deliveries, start),
        still_owed_vnd: owed_at(deliveries, end),
        ..MonthFigures::default()
    };
    for delivery in deliveries {
        if arrived_at(delivery).is_some_and(within) {
            figures.paid_out_vnd += delivery.share_vnd;
        }
        if !within(delivery.delivered_at) {
            continue;
        }
        let paid_by_buyer = delivery.items_total_vnd + delivery.fee_vnd;
        figures.deliveries += 1;
        figures.goods_sold_vnd += delivery.items_total_vnd;
        figures.shipping_fees_vnd += delivery.fee_vnd;
        figures.earned_vnd += delivery.share_vnd;
        if delivery.payment_method == PaymentMethod::Cod {
            let collected = delivery.cod_collected_vnd.unwrap_or(0);
            figures.cod_collected_vnd += collected;
            figures.cod_shortfall_vnd += (paid_by_buyer - collected).max(0);
        } else {
            figures.transfers_received_vnd += paid_by_buyer;
        }
    }
    figures
}

/// The months (newest first) in which something was delivered or reached the marketplace.
pub fn active_months(deliveries: &[StatementDelivery]) -> Vec<Month> {
    let months: BTreeSet<Month> = deliveries
        .iter()
        .flat_map(|d| [Some(d.delivered_at), arrived_at(d)])
        .flatten()
        .map(Month::containing)
        .collect();
    months.into_iter().rev().collect()
}

/// One line of a statement: its field, its name and what it counts, in plain words.
pub struct Line {
    pub field: &'static str,
    pub label: Text,
    pub meaning: Text,
    pub amount_vnd: i64,
}

/// The statement's lines, in the order people read them.
pub fn lines(figures: &MonthFigures) -> Vec<Line> {
    let line = |field, label: (&'static str, &'static str), meaning: (&'static str, &'static str), amount_vnd| Line {
        field,
        label: Text::new(label.0, label.1),
        meaning: Text::new(meaning.0, meaning.1),
        amount_vnd,
    };
    vec![
        line(
            "goods_sold_vnd",
            ("Tiền hàng đã giao", "Goods delivered"),
            (
                "Giá hàng của các đơn giao xong trong tháng (đơn bị từ chối, bị hủy hay giao không được thì không tính).",
                "The price of the goods delivered this month (declined, cancelled or undelivered orders do not count).",
            ),
            figures.goods_sold_vnd,
        ),
        line(
            "shipping_fees_vnd",
            ("Phí giao hàng (người mua trả)", "Delivery fees (paid by buyers)"),
            (
                "Người mua trả phí giao hàng cho bên giao hàng; đây không phải tiền của bạn, chỉ ghi để bạn biết.",
                "Buyers pay the delivery fee for the carrier; it is not your money, shown for your information.",
            ),
            figures.shipping_fees_vnd,
        ),
        line(
            "cod_collected_vnd",
            ("Người giao hàng thu tiền mặt", "Cash collected on delivery"),
            (
                "Tiền mặt người giao hàng thu của người mua khi giao trong tháng: tiền hàng cộng phí giao.",
                "Cash the carrier collected from buyers on this month's deliveries: goods plus delivery fee.",
            ),
            figures.cod_collected_vnd,
        ),
        line(
            "cod_shortfall_vnd",
            ("Người giao hàng thu thiếu", "Cash collected short"),
            (
                "Tiền mặt thu thiếu so với số phải thu; bên sàn xem lại từng khoản.",
                "Cash collected short of what was due; the marketplace looks into each case.",
            ),
            figures.cod_shortfall_vnd,
        ),
        line(
            "transfers_received_vnd",
            ("Người mua chuyển khoản", "Paid by bank transfer"),
            (
                "Tiền người mua đã chuyển khoản trước cho các đơn giao xong trong tháng: tiền hàng cộng phí giao.",
                "What buyers transferred in advance for this month's deliveries: goods plus delivery fee.",
            ),
            figures.transfers_received_vnd,
        ),
        line(
            "earned_vnd",
            ("Phần của bạn", "Your share"),
            (
                "Tiền người mua đã trả cho hàng giao trong tháng, đã trừ phí giao hàng.",
                "What buyers paid for this month's deliveries, less the delivery fees.",
            ),
            figures.earned_vnd,
        ),
        line(
            "owed_at_start_vnd",
            ("Chưa về từ trước", "Not in yet from before"),
            (
                "Phần của bạn mà người giao hàng còn giữ lúc đầu tháng.",
                "Your share that carriers still held when the month began.",
            ),
            figures.owed_at_start_vnd,
        ),
        line(
            "paid_out_vnd",
            ("Đã về trong tháng", "Arrived this month"),
            (
                "Phần của bạn đã về sàn trong tháng: tiền mặt khi người giao hàng nộp lại, tiền chuyển khoản khi hàng giao xong.",
                "Your share that reached the marketplace this month: cash when the carrier handed it over, transfers when the goods were delivered.",
            ),
            figures.paid_out_vnd,
        ),
        line(
            "still_owed_vnd",
            ("Chưa về cuối tháng", "Not in yet at month end"),
            (
                "Phần của bạn mà người giao hàng còn giữ lúc cuối tháng: chưa về từ trước, cộng phần của bạn, trừ đã về.",
                "Your share that carriers still held at the end of the month: not in yet from before, plus your share, less what arrived.",
            ),
            figures.still_owed_vnd,
        ),
    ]
}

/// The statement as CSV rows (a header, then one row per line), in `lang`.
pub fn csv_rows(farmer_name: &str, month: Month, figures: &MonthFigures, lang: Lang) -> Vec<Vec<String>> {
    let header = match lang {
        Lang::Vi => ["Nông dân", "Tháng", "Mã", "Mục", "Số tiền (đồng)", "Nghĩa là"],
        Lang::En => ["Farmer", "Month", "Code", "Line", "Amount (VND)", "Meaning"],
    };
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    rows.extend(lines(figures).into_iter().map(|line| {
        vec![
            farmer_name.to_owned(),
            month.to_string(),
            line.field.to_owned(),
            line.label.get(lang).to_owned(),
            line.amount_vnd.to_string(),
            line.meaning.get(lang).to_owned(),
        ]
    }));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time")
    }

    fn cod(delivered: &str, items: i64, fee: i64, collected: i64, remitted: Option<&str>) -> StatementDelivery {
        StatementDelivery {
            delivered_at: utc(delivered),
            payment_method: PaymentMethod::Cod,
            items_total_vnd: items,
            fee_vnd: fee,
            cod_collected_vnd: Some(collected),
            share_vnd: (collected - fee).max(0),
            remitted_at: remitted.map(utc),
        }
    }

    fn transfer(delivered: &str, items: i64, fee: i64) -> StatementDelivery {
        StatementDelivery {
            delivered_at: utc(delivered),
            payment_method: PaymentMethod::BankTransfer,
            items_total_vnd: items,
            fee_vnd: fee,
            cod_collected_vnd: None,
            share_vnd: items,
            remitted_at: None,
        }
    }

    #[test]
    fn months_parse_strictly_and_run_in_vietnam_time() {
        let december = Month::parse("2026-12").unwrap();
        assert_eq!(december.to_string(), "2026-12");
        assert_eq!(december.as_people_write_it(), "12/2026");
        assert_eq!(december.utc_bounds(), (utc("2026-11-30 17:00"), utc("2026-12-31 17:00")));
        assert_eq!(december.next().to_string(), "2027-01");
        assert_eq!(december.previous().to_string(), "2026-11");
        assert_eq!(Month::parse(" 2026-01 ").unwrap().previous().to_string(), "2025-12");
        // 17:00 UTC on 30 November is midnight of 1 December in Vietnam.
        assert_eq!(Month::containing(utc("2026-11-30 16:59")).to_string(), "2026-11");
        assert_eq!(Month::containing(utc("2026-11-30 17:00")), december);
        for bad in
            ["2026-13", "2026-00", "2026-1", "26-12", "2026/12", "2026-12-01", "", "abcd-ef", "0999-12", "+202-12"]
        {
            let error = Month::parse(bad).unwrap_err();
            assert_eq!(error.errors[0].code, "month_invalid", "{bad}");
        }
        assert_eq!(Month::parse_or_current(None, utc("2026-12-31 17:30")).unwrap().to_string(), "2027-01");
    }

    #[test]
    fn a_month_counts_its_deliveries_and_carries_what_is_still_owed() {
        let deliveries = [
            // November: cash, remitted in December.
            cod("2026-11-20 03:00", 100_000, 20_000, 120_000, Some("2026-12-02 03:00")),
            // December (Vietnam time: 1 December 00:30): cash, remitted in December.
            cod("2026-11-30 17:30", 200_000, 30_000, 230_000, Some("2026-12-10 03:00")),
            // December: cash 10,000 short, remitted in January.
            cod("2026-12-15 03:00", 50_000, 20_000, 60_000, Some("2027-01-05 03:00")),
            // December: a transfer.
            transfer("2026-12-20 03:00", 240_000, 25_000),
            // January (Vietnam time: 1 January 00:30).
            cod("2026-12-31 17:30", 80_000, 20_000, 100_000, None),
        ];
        let december = month_figures(&deliveries, Month::parse("2026-12").unwrap());
        assert_eq!(
            december,
            MonthFigures {
                deliveries: 3,
                goods_sold_vnd: 490_000,
                shipping_fees_vnd: 75_000,
                cod_collected_vnd: 290_000,
                cod_shortfall_vnd: 10_000,
                transfers_received_vnd: 265_000,
                earned_vnd: 200_000 + 40_000 + 240_000,
                owed_at_start_vnd: 100_000,
                paid_out_vnd: 100_000 + 200_000 + 240_000,
                still_owed_vnd: 40_000,
            }
        );
        let december_total = december.owed_at_start_vnd + december.earned_vnd - december.paid_out_vnd;
        assert_eq!(december.still_owed_vnd, december_total);
        let january = month_figures(&deliveries, Month::parse("2027-01").unwrap());
        assert_eq!((january.deliveries, january.owed_at_start_vnd), (1, 40_000));
        assert_eq!((january.paid_out_vnd, january.still_owed_vnd), (40_000, 80_000));
        let active: Vec<String> = active_months(&deliveries).iter().map(Month::to_string).collect();
        assert_eq!(active, ["2027-01", "2026-12", "2026-11"]);
        assert_eq!(month_figures(&deliveries, Month::parse("2026-10").unwrap()), MonthFigures::default());
    }

    #[test]
    fn csv_rows_name_every_line_in_the_language_asked() {
        let figures = MonthFigures { goods_sold_vnd: 490_000, ..MonthFigures::default() };
        let rows = csv_rows("Nguyễn Thị Lan", Month::parse("2026-12").unwrap(), &figures, Lang::Vi);
        assert_eq!(rows.len(), 1 + lines(&figures).len());
        assert_eq!(rows[0][3], "Mục");
        assert_eq!(rows[1][..5], ["Nguyễn Thị Lan", "2026-12", "goods_sold_vnd", "Tiền hàng đã giao", "490000"]);
        let english = csv_rows("Lan", Month::parse("2026-12").unwrap(), &figures, Lang::En);
        assert_eq!(english[1][3], "Goods delivered");
    }
}
