//! Reference data: provinces, wards, categories.

use serde_json::Value;

use crate::helpers::assert_problem;
use crate::on_both_backends;

fn names(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|w| w["name"].as_str().expect("name").to_owned()).collect()
}

on_both_backends! {
    provinces_are_the_34_units_since_2025(app) {
        let provinces = app.get_json("/api/v1/provinces").await;
        let items = provinces["items"].as_array().expect("items");
        assert_eq!(items.len(), 34);
        let hanoi = &items[0];
        assert_eq!((hanoi["code"].as_i64(), hanoi["name"].as_str()), (Some(1), Some("Thành phố Hà Nội")));
        assert!(items.iter().all(|p| ["north", "central", "south"].contains(&p["region"].as_str().unwrap_or_default())));
    }

    wards_of_every_province_add_up_to_3321(app) {
        let provinces = app.get_json("/api/v1/provinces").await;
        let mut total = 0;
        for province in provinces["items"].as_array().expect("items") {
            let code = province["code"].as_i64().expect("code");
            let mut cursor = String::new();
            loop {
                let page = app.get_json(&format!("/api/v1/provinces/{code}/wards?limit=100&cursor={cursor}")).await;
                let items = page["items"].as_array().expect("items");
                assert!(items.iter().all(|w| w["province"]["code"].as_i64() == Some(code)));
                total += items.len();
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = next.to_owned(),
                    None => break,
                }
            }
        }
        assert_eq!(total, 3321);
    }

    ward_search_ignores_accents_and_case_and_carries_the_province(app) {
        let found = app.get_json("/api/v1/wards?q=buon%20ma%20thuot").await;
        let items = found["items"].as_array().expect("items");
        assert_eq!(items[0]["name"], "Phường Buôn Ma Thuột");
        assert_eq!(items[0]["province"]["name"], "Đắk Lắk");

        let dalat = app.get_json("/api/v1/wards?q=DA%20LAT").await;
        let dalat_names = names(&dalat);
        assert!(dalat_names.len() >= 5, "{dalat_names:?}");
        assert!(dalat_names.iter().all(|n| n.ends_with("Đà Lạt")), "{dalat_names:?}");
        assert!(dalat["items"].as_array().expect("items").iter().all(|w| w["province"]["name"] == "Lâm Đồng"));

        // Precomposed and decomposed Vietnamese find the same wards as plain ASCII.
        let accented = app.get_json("/api/v1/wards?q=%C4%90%C3%A0%20L%E1%BA%A1t").await;
        assert_eq!(names(&accented), dalat_names);
        let decomposed = app.get_json("/api/v1/wards?q=%C4%90a%CC%80%20La%CC%A3t").await;
        assert_eq!(names(&decomposed), dalat_names);
    }

    ward_search_matches_word_starts_not_inner_letters(app) {
        // "ma" starts a word of "Buôn Ma Thuột" but is only inside "Cà Mau": word prefixes only.
        let found = app.get_json("/api/v1/wards?q=thuot%20ma&limit=100").await;
        assert!(names(&found).contains(&"Phường Buôn Ma Thuột".to_owned()));
        let none = app.get_json("/api/v1/wards?q=uon%20ma%20thuot").await;
        assert!(names(&none).is_empty(), "{none}");
    }

    province_wards_can_be_filtered_and_unknown_provinces_are_404(app) {
        let lam_dong = app.get_json("/api/v1/provinces/68/wards?q=da%20lat&limit=100").await;
        assert!(names(&lam_dong).len() >= 5);
        assert_problem(app.get("/api/v1/provinces/999/wards").await, 404, "not_found").await;
        assert_problem(app.get("/api/v1/provinces/abc/wards").await, 404, "not_found").await;
    }

    paging_rejects_bad_limits_and_cursors(app) {
        assert_problem(app.get("/api/v1/wards?limit=0").await, 422, "validation_failed").await;
        assert_problem(app.get("/api/v1/wards?limit=abc").await, 422, "validation_failed").await;
        let problem = assert_problem(app.get("/api/v1/wards?cursor=nonsense").await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "cursor");
    }

    categories_have_names_units_weights_and_keywords(app) {
        let categories = app.get_json("/api/v1/categories").await;
        let items = categories["items"].as_array().expect("items");
        assert!(items.len() >= 20, "{} categories", items.len());
        for category in items {
            assert!(category["name_vi"].as_str().is_some_and(|n| !n.is_empty()));
            assert!(category["name_en"].as_str().is_some_and(|n| !n.is_empty()));
            assert!(category["unit_weight_g"].as_i64().is_some_and(|g| g > 0));
            assert!(["kg", "qua", "bo", "con", "hop", "chai", "lit", "goi"].contains(&category["default_unit"].as_str().unwrap_or_default()));
            assert!(!category["keywords"].as_array().expect("keywords").is_empty());
        }
        let codes: Vec<&str> = items.iter().filter_map(|c| c["code"].as_str()).collect();
        for expected in ["ca_phe", "gao", "mat_ong", "trung"] {
            assert!(codes.contains(&expected), "{expected} missing from {codes:?}");
        }
    }

    reference_answers_are_cacheable_and_stable(app) {
        let first = app.get("/api/v1/wards?q=hoa%20loc").await;
        assert!(first.headers()["cache-control"].to_str().expect("header").starts_with("public, max-age="));
        let first: Value = first.json().await.expect("json");
        let second = app.get_json("/api/v1/wards?q=Ho%C3%A0%20L%E1%BB%99c").await;
        assert_eq!(first, second);
        assert!(!names(&first).is_empty());
    }
}
