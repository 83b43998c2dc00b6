//! CSV answers for spreadsheet programs: asked for with `Accept: text/csv` or `?format=csv`, sent as UTF-8
//! with a byte-order mark (so Vietnamese shows right when the file is opened) and as an attachment.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE, VARY};

use crate::error::{AppError, Text};

/// UTF-8's byte-order mark: spreadsheet programs read the file as UTF-8 only when it starts with it.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether the caller asked for CSV: `?format=csv` (or `json`) decides, else an `Accept` naming `text/csv`
/// (without `q=0`). Any other `format` is a 422.
pub fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, AppError> {
    match format.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(AppError::invalid_field(
            "format",
            "format_invalid",
            Text::new("`format` phải là `csv` hoặc `json`.", "`format` must be `csv` or `json`."),
        )),
        None => {
            let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
            Ok(accept.split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let refused =
                    |param: &str| param.replace(' ', "").strip_prefix("q=").is_some_and(|q| q.parse() == Ok(0.0));
                parts.next().is_some_and(|media| media.eq_ignore_ascii_case("text/csv")) && !parts.any(refused)
            }))
        }
    }
}

/// A cell a spreadsheet cannot take for a formula: text starting with `=`, `+`, `-`, `@` or a control
/// character gets a leading `'` (numbers stay numbers).
fn inert(cell: &str) -> String {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err();
    if formula { format!("'{cell}") } else { cell.to_owned() }
}

/// `rows` as a CSV attachment named `file_name` (ASCII, without quotes).
pub fn attachment(file_name: &str, rows: &[Vec<String>]) -> Result<HttpResponse, AppError> {
    let mut writer = ::csv::Writer::from_writer(BOM.to_vec());
    for row in rows {
        writer.write_record(row.iter().map(|cell| inert(cell))).map_err(AppError::internal)?;
    }
    let body = writer.into_inner().map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .insert_header((VARY, "accept"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_format_parameter_wins_over_accept() {
        let csv = TestRequest::default().insert_header((ACCEPT, "text/csv")).to_http_request();
        let json = TestRequest::default().insert_header((ACCEPT, "application/json, text/csv;q=0")).to_http_request();
        assert!(wants_csv(&csv, None).unwrap());
        assert!(!wants_csv(&json, None).unwrap());
        assert!(!wants_csv(&csv, Some("json")).unwrap());
        assert!(wants_csv(&json, Some("CSV")).unwrap());
        assert_eq!(wants_csv(&json, Some("xlsx")).unwrap_err().errors[0].code, "format_invalid");
    }

    #[test]
    fn cells_are_never_formulas() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("-5000"), "-5000");
        assert_eq!(inert("Nguyễn Thị Lan"), "Nguyễn Thị Lan");
    }
}
