//! Raw SQL with numbered parameters (`$1`, `$2`, `$3`) on both backends, for the rollups' sums that the
//! query builder cannot name (columns chosen per report group, `INSERT … SELECT`).

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use super::store::Scope;
use crate::db::Conn;
use crate::error::AppError;

/// Runs `text`, whose `$1`, `$2` and `$3` are the scope's first day, day after the last and place.
pub(super) fn scoped<T>(conn: &mut Conn<'_>, text: &str, scope: &Scope) -> Result<Vec<T>, AppError>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let bind = |text: String| {
        diesel::sql_query(text)
            .bind::<Text, _>(scope.from.clone())
            .bind::<Text, _>(scope.to.clone())
            .bind::<Integer, _>(scope.place())
    };
    Ok(match conn {
        Conn::Pg(c) => bind(text.to_owned()).load(&mut **c)?,
        // SQLite numbers its parameters `?1`; `$1` there would be a name, numbered by first appearance.
        Conn::Sqlite(c) => bind(text.replace('$', "?")).load(&mut **c)?,
    })
}

/// Runs `text` with its `$1`, `$2`, … bound to `texts` in order.
pub(super) fn execute(conn: &mut Conn<'_>, text: &str, texts: [&str; 3]) -> Result<(), AppError> {
    let bind = |text: String| {
        diesel::sql_query(text)
            .bind::<Text, _>(texts[0].to_owned())
            .bind::<Text, _>(texts[1].to_owned())
            .bind::<Text, _>(texts[2].to_owned())
    };
    match conn {
        Conn::Pg(c) => bind(text.to_owned()).execute(&mut **c)?,
        Conn::Sqlite(c) => bind(text.replace('$', "?")).execute(&mut **c)?,
    };
    Ok(())
}
