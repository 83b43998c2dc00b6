// One schema for both backends: only column types that PostgreSQL and SQLite share.
// Kept in step with migrations/{postgres,sqlite}; tests/api/schema.rs proves the two agree.

diesel::table! {
    provinces (code) {
        code -> Integer,
        name -> Text,
        name_search -> Text,
        division_type -> Text,
        codename -> Text,
        phone_code -> Integer,
        region -> Text,
    }
}

diesel::table! {
    wards (code) {
        code -> Integer,
        name -> Text,
        name_search -> Text,
        division_type -> Text,
        codename -> Text,
        province_code -> Integer,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        name_vi -> Text,
        name_en -> Text,
        default_unit -> Text,
        unit_weight_g -> Integer,
        keywords -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    seed_runs (name) {
        name -> Text,
        checksum -> Text,
        applied_at -> Timestamp,
    }
}

diesel::joinable!(wards -> provinces (province_code));

diesel::table! {
    job_holds (id) {
        id -> BigInt,
        job_id -> BigInt,
        partner_id -> BigInt,
        lease_id -> Text,
        claimed_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ending -> Nullable<Text>,
    }
}

diesel::table! {
    operator_audit (id) {
        id -> BigInt,
        operator_id -> BigInt,
        action -> Text,
        subject -> Text,
        subject_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        suspended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    team_wards (team_id, ward_code) {
        team_id -> BigInt,
        ward_code -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        role -> Text,
        name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        ward_code -> Nullable<Integer>,
        team_id -> Nullable<BigInt>,
        secret_hash -> Text,
        enrolled_by -> Nullable<BigInt>,
        consent_version -> Nullable<Text>,
        consent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        auto_accept -> Bool,
        email_messages -> Bool,
        text_messages -> Bool,
        zalo_messages -> Bool,
        digest_through -> Nullable<Timestamp>,
        suspended_at -> Nullable<Timestamp>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    helper_revocations (farmer_id, helper_id) {
        farmer_id -> BigInt,
        helper_id -> BigInt,
        revoked_at -> Timestamp,
    }
}

diesel::table! {
    consents (id) {
        id -> BigInt,
        farmer_id -> BigInt,
        team_id -> BigInt,
        consent_version -> Text,
        given_by -> Text,
        helper_id -> Nullable<BigInt>,
        given_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consent_purposes (consent_id, purpose) {
        consent_id -> BigInt,
        purpose -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> BigInt,
        farmer_id -> BigInt,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    partners (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        suspended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_provinces (partner_id, province_code) {
        partner_id -> BigInt,
        province_code -> Integer,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        partner_id -> BigInt,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        owner_id -> BigInt,
        display_name -> Text,
        thumb_name -> Text,
        width -> Integer,
        height -> Integer,
        bytes -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    listings (id) {
        id -> BigInt,
        farmer_id -> BigInt,
        title -> Text,
        title_search -> Text,
        description -> Nullable<Text>,
        category_code -> Text,
        unit -> Text,
        unit_weight_g -> Integer,
        price_vnd -> BigInt,
        quantity -> BigInt,
        status -> Text,
        ward_code -> Integer,
        province_code -> Integer,
        photo_id -> Nullable<BigInt>,
        available_from -> Nullable<Timestamp>,
        ocop_stars -> Nullable<Integer>,
        vietgap -> Bool,
        organic -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        paused_by_suspension -> Bool,
        hidden_at -> Nullable<Timestamp>,
        hidden_by -> Nullable<BigInt>,
        hidden_reason -> Nullable<Text>,
        paused_by_hiding -> Bool,
    }
}

diesel::table! {
    catalogue_changes (kind, subject_id) {
        kind -> Integer,
        subject_id -> BigInt,
        seq -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    listing_photos (listing_id, media_id) {
        listing_id -> BigInt,
        media_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    orders (id) {
        id -> BigInt,
        code -> Text,
        buyer_id -> Nullable<BigInt>,
        buyer_name -> Text,
        buyer_phone -> Text,
        buyer_email -> Nullable<Text>,
        ward_code -> Integer,
        province_code -> Integer,
        street -> Text,
        note -> Nullable<Text>,
        payment_method -> Text,
        payment_status -> Text,
        status -> Text,
        items_total_vnd -> BigInt,
        shipping_total_vnd -> BigInt,
        total_vnd -> BigInt,
        lang -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shipments (id) {
        id -> BigInt,
        order_id -> BigInt,
        farmer_id -> BigInt,
        status -> Text,
        weight_g -> BigInt,
        items_total_vnd -> BigInt,
        fee_vnd -> BigInt,
        reject_reason -> Nullable<Text>,
        stock_restored -> Bool,
        respond_by -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reason_code -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
        accepted_at -> Nullable<Timestamp>,
        withdrawn_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        shipment_id -> BigInt,
        listing_id -> BigInt,
        title -> Text,
        unit -> Text,
        price_vnd -> BigInt,
        quantity -> BigInt,
        line_total_vnd -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        channel -> Text,
        kind -> Text,
        segments -> Nullable<Integer>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        text -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sms_inbound (gateway_id) {
        gateway_id -> Text,
        sender -> Text,
        outcome -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    cod_remittances (id) {
        id -> BigInt,
        partner_id -> BigInt,
        remittance_id -> Text,
        amount_vnd -> BigInt,
        request_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    fulfilment_jobs (id) {
        id -> BigInt,
        shipment_id -> BigInt,
        order_id -> BigInt,
        pickup_province_code -> Integer,
        pickup_ward_code -> Integer,
        dropoff_province_code -> Integer,
        dropoff_ward_code -> Integer,
        weight_g -> BigInt,
        cod_vnd -> BigInt,
        declared_value_vnd -> BigInt,
        item_summary -> Text,
        status -> Text,
        partner_id -> Nullable<BigInt>,
        lease_id -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        attempts -> Integer,
        needs_operator -> Bool,
        tracking_code -> Nullable<Text>,
        cod_collected_vnd -> Nullable<BigInt>,
        remittance_id -> Nullable<BigInt>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    job_events (id) {
        id -> BigInt,
        job_id -> BigInt,
        partner_id -> BigInt,
        event_id -> Text,
        status -> Text,
        applied -> Bool,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        tracking_code -> Nullable<Text>,
        carrier_status -> Nullable<Text>,
        note -> Nullable<Text>,
        cod_collected_vnd -> Nullable<BigInt>,
    }
}

diesel::table! {
    partner_webhooks (partner_id) {
        partner_id -> BigInt,
        url -> Text,
        secret -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> BigInt,
        order_id -> BigInt,
        shipment_id -> BigInt,
        amount_vnd -> BigInt,
        status -> Text,
        created_at -> Timestamp,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    cod_discrepancies (id) {
        id -> BigInt,
        job_id -> BigInt,
        partner_id -> BigInt,
        expected_vnd -> BigInt,
        collected_vnd -> BigInt,
        reason -> Text,
        status -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<BigInt>,
        resolution_note -> Nullable<Text>,
    }
}

diesel::table! {
    privacy_codes (id) {
        id -> BigInt,
        order_id -> BigInt,
        code_hash -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bank_transfers (id) {
        id -> BigInt,
        notification_id -> BigInt,
        gateway -> Text,
        transferred_at -> Timestamp,
        account_number -> Text,
        content -> Text,
        direction -> Text,
        amount_vnd -> BigInt,
        reference_code -> Nullable<Text>,
        outcome -> Text,
        order_id -> Nullable<BigInt>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    report_days (day, ward_code, helper_id) {
        day -> Text,
        ward_code -> Integer,
        helper_id -> BigInt,
        self_enrolled -> BigInt,
        enrolled_by_helper -> BigInt,
        orders -> BigInt,
        goods_value_vnd -> BigInt,
        delivered_shipments -> BigInt,
        delivered_value_vnd -> BigInt,
        cancelled_shipments -> BigInt,
        rejected_shipments -> BigInt,
        cod_collected_vnd -> BigInt,
        listings_by_helpers -> BigInt,
    }
}

diesel::table! {
    payment_exceptions (id) {
        id -> BigInt,
        transfer_id -> BigInt,
        kind -> Text,
        order_id -> Nullable<BigInt>,
        expected_vnd -> Nullable<BigInt>,
        status -> Text,
        resolution -> Nullable<Text>,
        applied_order_id -> Nullable<BigInt>,
        refund_vnd -> Nullable<BigInt>,
        note -> Nullable<Text>,
        resolved_by -> Nullable<BigInt>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_durations (day, ward_code, helper_id, measure, tenths) {
        day -> Text,
        ward_code -> Integer,
        helper_id -> BigInt,
        measure -> Text,
        tenths -> Integer,
        shipments -> BigInt,
    }
}

diesel::table! {
    report_seller_days (farmer_id, day) {
        farmer_id -> BigInt,
        day -> Text,
    }
}

diesel::table! {
    report_listings_live (day, ward_code, helper_id) {
        day -> Text,
        ward_code -> Integer,
        helper_id -> BigInt,
        listings -> BigInt,
    }
}

diesel::table! {
    report_watermark (id) {
        id -> Integer,
        through -> Timestamp,
    }
}

diesel::table! {
    report_months (month, ward_code, helper_id) {
        month -> Text,
        ward_code -> Integer,
        helper_id -> BigInt,
        self_enrolled -> BigInt,
        enrolled_by_helper -> BigInt,
        orders -> BigInt,
        goods_value_vnd -> BigInt,
        delivered_shipments -> BigInt,
        delivered_value_vnd -> BigInt,
        cancelled_shipments -> BigInt,
        rejected_shipments -> BigInt,
        cod_collected_vnd -> BigInt,
        listings_by_helpers -> BigInt,
    }
}

diesel::table! {
    report_month_durations (month, province_code, ward_code, helper_id, measure) {
        month -> Text,
        province_code -> Integer,
        ward_code -> Integer,
        helper_id -> BigInt,
        measure -> Text,
        histogram -> Text,
    }
}

diesel::table! {
    report_seller_months (month, farmer_id) {
        month -> Text,
        farmer_id -> BigInt,
    }
}

diesel::joinable!(team_wards -> teams (team_id));
diesel::joinable!(team_wards -> wards (ward_code));
diesel::joinable!(users -> wards (ward_code));
diesel::joinable!(users -> teams (team_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(consents -> teams (team_id));
diesel::joinable!(consent_purposes -> consents (consent_id));
diesel::joinable!(partner_provinces -> partners (partner_id));
diesel::joinable!(partner_provinces -> provinces (province_code));
diesel::joinable!(api_keys -> partners (partner_id));
diesel::joinable!(media -> users (owner_id));
diesel::joinable!(listings -> users (farmer_id));
diesel::joinable!(listings -> wards (ward_code));
diesel::joinable!(listings -> categories (category_code));
diesel::joinable!(listings -> media (photo_id));
diesel::joinable!(listing_photos -> listings (listing_id));
diesel::joinable!(listing_photos -> media (media_id));
diesel::joinable!(shipments -> orders (order_id));
diesel::joinable!(order_lines -> shipments (shipment_id));
diesel::joinable!(fulfilment_jobs -> shipments (shipment_id));
diesel::joinable!(fulfilment_jobs -> orders (order_id));
diesel::joinable!(fulfilment_jobs -> partners (partner_id));
diesel::joinable!(fulfilment_jobs -> cod_remittances (remittance_id));
diesel::joinable!(job_events -> fulfilment_jobs (job_id));
diesel::joinable!(cod_remittances -> partners (partner_id));
diesel::joinable!(partner_webhooks -> partners (partner_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(operator_audit -> users (operator_id));
diesel::joinable!(job_holds -> fulfilment_jobs (job_id));
diesel::joinable!(job_holds -> partners (partner_id));
diesel::joinable!(refunds -> orders (order_id));
diesel::joinable!(refunds -> shipments (shipment_id));
diesel::joinable!(cod_discrepancies -> fulfilment_jobs (job_id));
diesel::joinable!(cod_discrepancies -> partners (partner_id));
diesel::joinable!(privacy_codes -> orders (order_id));
diesel::joinable!(bank_transfers -> orders (order_id));
diesel::joinable!(payment_exceptions -> bank_transfers (transfer_id));

diesel::allow_tables_to_appear_in_same_query!(
    notifications,
    operator_audit,
    job_holds,
    sms_inbound,
    provinces,
    wards,
    categories,
    seed_runs,
    teams,
    team_wards,
    users,
    sessions,
    helper_revocations,
    audit_log,
    partners,
    partner_provinces,
    api_keys,
    media,
    listings,
    listing_photos,
    catalogue_changes,
    orders,
    shipments,
    order_lines,
    idempotency_keys,
    outbox,
    cod_remittances,
    fulfilment_jobs,
    job_events,
    partner_webhooks,
    refunds,
    cod_discrepancies,
    consents,
    consent_purposes,
    privacy_codes,
    bank_transfers,
    payment_exceptions,
    report_days,
    report_durations,
    report_seller_days,
    report_listings_live,
    report_watermark,
    report_months,
    report_month_durations,
    report_seller_months,
);
