//! Shipping fees by distance zone and parcel weight, kept as data (`seeds/shipping_tariff.csv`) so prices
//! can follow the carriers without touching code.
//!
//! The file has the columns `zone,max_weight_g,fee_vnd,extra_per_kg_vnd`. Each zone lists its weight bands
//! in increasing order (`max_weight_g` inclusive, `fee_vnd` for any parcel up to it, `extra_per_kg_vnd`
//! empty), then one open-ended row with only `extra_per_kg_vnd`: above the last band a parcel costs the last
//! band's fee plus that much per started kilogram, as carriers charge.

use serde::Deserialize;

/// The tariff shipped with the code, for start-up and tests.
pub const SEEDED_CSV: &str = include_str!("../../seeds/shipping_tariff.csv");

/// How far a parcel travels, the main driver of domestic parcel prices in Vietnam.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Zone {
    SameProvince,
    /// Same one of north, central and south (the `region` of `seeds/provinces.csv`).
    SameRegion,
    OtherRegion,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::SameProvince, Zone::SameRegion, Zone::OtherRegion];

    /// The name used in the tariff file.
    pub fn code(self) -> &'static str {
        match self {
            Zone::SameProvince => "same_province",
            Zone::SameRegion => "same_region",
            Zone::OtherRegion => "other_region",
        }
    }

    fn parse(code: &str) -> Option<Zone> {
        Zone::ALL.into_iter().find(|zone| zone.code() == code)
    }
}

/// The zone of a parcel from one province to another. An unknown (empty) region counts as another region:
/// better to quote the dearer fee than to ship at a loss.
pub fn zone(from_province: i32, from_region: &str, to_province: i32, to_region: &str) -> Zone {
    let (from_region, to_region) = (from_region.trim(), to_region.trim());
    if from_province == to_province {
        Zone::SameProvince
    } else if !from_region.is_empty() && from_region.eq_ignore_ascii_case(to_region) {
        Zone::SameRegion
    } else {
        Zone::OtherRegion
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Band {
    max_weight_g: i64,
    fee_vnd: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ZoneTariff {
    bands: Vec<Band>,
    /// The last band, where the open-ended row starts counting.
    top: Band,
    extra_per_kg_vnd: i64,
}

/// A validated tariff: every zone has increasing bands with non-decreasing fees and an open-ended row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tariff {
    /// Indexed by `Zone as usize`.
    zones: [ZoneTariff; 3],
}

const COLUMNS: [&str; 4] = ["zone", "max_weight_g", "fee_vnd", "extra_per_kg_vnd"];

#[derive(Deserialize)]
struct Row {
    zone: String,
    max_weight_g: Option<i64>,
    fee_vnd: Option<i64>,
    extra_per_kg_vnd: Option<i64>,
}

impl Tariff {
    /// The tariff in `seeds/shipping_tariff.csv`.
    pub fn seeded() -> Result<Tariff, String> {
        Tariff::from_csv(SEEDED_CSV)
    }

    /// Reads and checks a tariff file; errors name the line and what is wrong with it.
    pub fn from_csv(text: &str) -> Result<Tariff, String> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| format!("shipping tariff: {e}"))?.clone();
        if headers.iter().ne(COLUMNS) {
            return Err(format!("shipping tariff: the header must be {}", COLUMNS.join(",")));
        }
        let mut bands: [Vec<Band>; 3] = Default::default();
        let mut extra: [Option<i64>; 3] = [None; 3];
        for record in reader.records() {
            let record = record.map_err(|e| format!("shipping tariff: {e}"))?;
            let line = record.position().map_or(0, csv::Position::line);
            let fail = |problem: String| format!("shipping tariff line {line}: {problem}");
            let row: Row = record.deserialize(Some(&headers)).map_err(|e| fail(e.to_string()))?;
            let zone = Zone::parse(&row.zone).ok_or_else(|| {
                fail(format!("unknown zone {:?} (expected same_province, same_region or other_region)", row.zone))
            })?;
            let (zone_bands, zone_extra) = (&mut bands[zone as usize], &mut extra[zone as usize]);
            if zone_extra.is_some() {
                return Err(fail(format!("{} already ended with its open-ended row", zone.code())));
            }
            match (row.max_weight_g, row.fee_vnd, row.extra_per_kg_vnd) {
                (Some(max_weight_g), Some(fee_vnd), None) => {
                    let (previous_max, previous_fee) =
                        zone_bands.last().map_or((0, 1), |b| (b.max_weight_g, b.fee_vnd));
                    if max_weight_g <= previous_max {
                        return Err(fail(format!("max_weight_g {max_weight_g} must be above {previous_max}")));
                    }
                    if fee_vnd < previous_fee {
                        return Err(fail(format!("fee_vnd {fee_vnd} must be positive and at least {previous_fee}")));
                    }
                    zone_bands.push(Band { max_weight_g, fee_vnd });
                }
                (None, None, Some(per_kg)) => {
                    if zone_bands.is_empty() {
                        return Err(fail(format!("{} has an open-ended row but no weight band", zone.code())));
                    }
                    if per_kg <= 0 {
                        return Err(fail(format!("extra_per_kg_vnd {per_kg} must be positive")));
                    }
                    *zone_extra = Some(per_kg);
                }
                _ => {
                    return Err(fail(
                        "a band has max_weight_g and fee_vnd; the open-ended row only extra_per_kg_vnd".to_owned(),
                    ));
                }
            }
        }
        let mut zones = Vec::with_capacity(Zone::ALL.len());
        for zone in Zone::ALL {
            let i = zone as usize;
            let (Some(&top), Some(extra_per_kg_vnd)) = (bands[i].last(), extra[i]) else {
                return Err(format!(
                    "shipping tariff: {} needs weight bands and then one open-ended row (extra_per_kg_vnd)",
                    zone.code()
                ));
            };
            zones.push(ZoneTariff { bands: std::mem::take(&mut bands[i]), top, extra_per_kg_vnd });
        }
        let zones = zones.try_into().map_err(|_| "shipping tariff: wrong number of zones".to_owned())?;
        Ok(Tariff { zones })
    }

    /// The fee for one parcel. Weights of 0 or less cost the first band (a parcel is never free); above the
    /// last band every started kilogram adds the zone's extra fee. Saturates rather than overflows.
    pub fn fee_vnd(&self, zone: Zone, weight_g: i64) -> i64 {
        let tariff = &self.zones[zone as usize];
        match tariff.bands.iter().find(|band| weight_g <= band.max_weight_g) {
            Some(band) => band.fee_vnd,
            None => {
                let started_kg = (weight_g - tariff.top.max_weight_g).saturating_add(999) / 1000;
                tariff.top.fee_vnd.saturating_add(started_kg.saturating_mul(tariff.extra_per_kg_vnd))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn seeded() -> Tariff {
        Tariff::seeded().unwrap()
    }

    const HEADER: &str = "zone,max_weight_g,fee_vnd,extra_per_kg_vnd\n";

    fn minimal(same_province: &str) -> String {
        format!(
            "{HEADER}{same_province}same_region,1000,20000,\nsame_region,,,6000\nother_region,1000,30000,\nother_region,,,8000\n"
        )
    }

    #[test]
    fn seeded_file_parses_and_covers_every_zone() {
        let tariff = seeded();
        for zone in Zone::ALL {
            assert!(tariff.fee_vnd(zone, 1) > 0);
        }
    }

    #[test]
    fn band_boundaries_are_inclusive() {
        let tariff = seeded();
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 500), 16_000);
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 501), 18_000);
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 1000), 18_000);
        assert_eq!(tariff.fee_vnd(Zone::OtherRegion, 30_000), 210_000);
        assert_eq!(tariff.fee_vnd(Zone::SameRegion, 0), 25_000);
        assert_eq!(tariff.fee_vnd(Zone::SameRegion, -7), 25_000);
    }

    #[test]
    fn above_the_bands_each_started_kilogram_costs_extra() {
        let tariff = seeded();
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 30_001), 90_000 + 5_000);
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 31_000), 90_000 + 5_000);
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 31_001), 90_000 + 2 * 5_000);
        assert_eq!(tariff.fee_vnd(Zone::OtherRegion, 130_000), 210_000 + 100 * 9_000);
        assert_eq!(tariff.fee_vnd(Zone::OtherRegion, i64::MAX), i64::MAX);
    }

    #[test]
    fn zones_follow_province_then_region() {
        assert_eq!(zone(1, "north", 1, "north"), Zone::SameProvince);
        assert_eq!(zone(1, "north", 4, "north"), Zone::SameRegion);
        assert_eq!(zone(1, "north", 4, " North "), Zone::SameRegion);
        assert_eq!(zone(1, "north", 79, "south"), Zone::OtherRegion);
        assert_eq!(zone(1, "", 79, ""), Zone::OtherRegion);
    }

    #[test]
    fn minimal_tariff_parses_and_blank_lines_and_spaces_are_fine() {
        let tariff = Tariff::from_csv(&minimal("same_province, 500 ,15000,\n\nsame_province,,, 4000\n")).unwrap();
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 500), 15_000);
        assert_eq!(tariff.fee_vnd(Zone::SameProvince, 1501), 15_000 + 2 * 4_000);
    }

    #[test]
    fn broken_tariffs_are_refused_with_the_line() {
        let cases = [
            ("", "same_province needs weight bands"),
            ("same_province,500,15000,\n", "same_province needs weight bands and then one open-ended row"),
            ("same_province,,,4000\n", "line 2: same_province has an open-ended row but no weight band"),
            ("same_province,500,15000,\nsame_province,500,16000,\nsame_province,,,4000\n", "line 3: max_weight_g 500"),
            ("same_province,500,15000,\nsame_province,400,16000,\nsame_province,,,4000\n", "must be above 500"),
            ("same_province,0,15000,\nsame_province,,,4000\n", "line 2: max_weight_g 0 must be above 0"),
            ("same_province,500,0,\nsame_province,,,4000\n", "fee_vnd 0 must be positive"),
            ("same_province,500,15000,\nsame_province,1000,14000,\nsame_province,,,4000\n", "at least 15000"),
            ("same_province,500,15000,\nsame_province,,,0\n", "extra_per_kg_vnd 0 must be positive"),
            ("same_province,500,15000,\nsame_province,,,4000\nsame_province,,,4000\n", "line 4: same_province already"),
            ("same_province,500,15000,\nsame_province,,,4000\nsame_province,900,20000,\n", "already ended"),
            ("same_province,500,15000,4000\nsame_province,,,4000\n", "line 2: a band has"),
            ("same_province,500,,\nsame_province,,,4000\n", "line 2: a band has"),
            ("same_province,,15000,4000\n", "line 2: a band has"),
            ("same_city,500,15000,\n", "line 2: unknown zone \"same_city\""),
            ("same_province,5kg,15000,\n", "line 2:"),
        ];
        for (rows, expected) in cases {
            let error = Tariff::from_csv(&minimal(rows)).unwrap_err();
            assert!(error.contains(expected), "{rows:?}: {error}");
        }
        for header in ["zone,max_weight_g,fee_vnd", "zone,fee_vnd,max_weight_g,extra_per_kg_vnd", ""] {
            let error = Tariff::from_csv(&format!("{header}\nsame_province,500,15000\n")).unwrap_err();
            assert!(error.contains("the header must be zone,max_weight_g,fee_vnd,extra_per_kg_vnd"), "{error}");
        }
    }

    proptest! {
        #[test]
        fn fees_never_fall_as_weight_grows(a in any::<i64>(), b in any::<i64>(), zone in 0..3usize) {
            let (light, heavy) = (a.min(b), a.max(b));
            let tariff = seeded();
            let zone = Zone::ALL[zone];
            prop_assert!(tariff.fee_vnd(zone, light) <= tariff.fee_vnd(zone, heavy));
        }

        #[test]
        fn fees_never_fall_as_weight_grows_near_the_bands(a in -1000..200_000i64, b in -1000..200_000i64) {
            let (light, heavy) = (a.min(b), a.max(b));
            let tariff = seeded();
            for zone in Zone::ALL {
                prop_assert!(tariff.fee_vnd(zone, light) <= tariff.fee_vnd(zone, heavy));
            }
        }

        #[test]
        fn nearer_is_never_dearer(weight in prop_oneof![-1000..200_000i64, any::<i64>()]) {
            let tariff = seeded();
            let same_province = tariff.fee_vnd(Zone::SameProvince, weight);
            let same_region = tariff.fee_vnd(Zone::SameRegion, weight);
            let other_region = tariff.fee_vnd(Zone::OtherRegion, weight);
            prop_assert!(same_province <= same_region && same_region <= other_region, "{weight} g");
        }
    }
}
