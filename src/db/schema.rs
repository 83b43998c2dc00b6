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

diesel::allow_tables_to_appear_in_same_query!(provinces, wards, categories, seed_runs);
