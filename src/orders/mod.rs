//! Ordering nationwide: quotes, orders that never oversell and survive retries (Idempotency-Key), one
//! shipment per farmer with its own fee, COD or VietQR transfer, farmer confirmation, cancellation.
//!
//! Routes by caller: `buyer` (guests too), `farmer` (or a helper acting for one), `operator`. Rules:
//! `placement` (placing an order), `buying` and `answering` (what a buyer and a farmer do with an order, shared
//! with the web app, and the expiry of what nobody answered or paid) and `rules` (what happens after). `view`
//! builds the order as it is shown; `store` holds the queries.

pub mod answering;
pub mod buyer;
pub mod buying;
pub mod codes;
pub mod farmer;
pub mod lookup;
pub mod operator;
pub mod placement;
pub mod rules;
pub mod store;
pub mod vietqr;
pub mod view;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(buyer::quote)
        .service(buyer::place_order)
        .service(buyer::get_order)
        .service(buyer::cancel_order)
        .service(buyer::order_qr)
        .service(buyer::my_orders)
        .service(farmer::my_shipments)
        .service(farmer::accept_shipment)
        .service(farmer::reject)
        .service(operator::search_orders)
        .service(operator::read_order)
        .service(operator::mark_paid)
        .service(operator::list_refunds)
        .service(operator::refund_done);
}
