DROP TABLE report_seller_months;
DROP TABLE report_month_durations;
DROP TABLE report_months;
