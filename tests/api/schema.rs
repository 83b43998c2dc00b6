//! Both backends' migrations give the same tables and columns (names, type family, nullability).

use std::collections::BTreeSet;

use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::helpers::{TestDatabase, settings_for};

#[derive(QueryableByName, Debug)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// What a declared type means for the shared diesel schema.
fn family(data_type: &str) -> String {
    match data_type.to_ascii_lowercase().as_str() {
        "integer" | "int4" | "int" => "integer",
        "bigint" | "int8" => "bigint",
        "text" | "character varying" | "varchar" => "text",
        "boolean" | "bool" => "bool",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "blob" | "bytea" => "binary",
        other => panic!("column type {other} is not one both backends share"),
    }
    .to_owned()
}

type Columns = BTreeSet<(String, String, String, bool)>;

fn normalise(columns: Vec<ColumnInfo>) -> Columns {
    columns
        .into_iter()
        .filter(|c| c.table_name != "__diesel_schema_migrations")
        .map(|c| (c.table_name, c.column_name, family(&c.data_type), c.nullable))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_sqlite_migrations_give_the_same_schema() {
    let Some(database) = TestDatabase::create() else {
        eprintln!("TEST_DATABASE_URL not set: schema comparison skipped");
        return;
    };
    let data_dir = tempfile::tempdir().expect("temp dir");
    let sqlite_path = data_dir.path().join("schema.db").display().to_string();
    for url in [database.url.clone(), sqlite_path.clone()] {
        let db = nongsan::state::connect_database(&settings_for(data_dir.path(), url, None)).await.expect("connect");
        db.migrate().await.expect("migrate");
    }

    let mut pg = PgConnection::establish(&database.url).expect("postgres");
    let pg_columns = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
         is_nullable = 'YES' AS nullable FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load::<ColumnInfo>(&mut pg)
    .expect("postgres columns");

    let mut sqlite = SqliteConnection::establish(&sqlite_path).expect("sqlite");
    // An INTEGER PRIMARY KEY is never NULL in SQLite even though table_info reports notnull = 0, and with
    // AUTOINCREMENT it is the 64-bit id that PostgreSQL declares BIGSERIAL. `listings_fts*` is SQLite's search
    // index (PostgreSQL has a trigram index instead), not part of the shared schema.
    let sqlite_columns = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, \
         CASE WHEN p.pk = 1 AND upper(p.type) = 'INTEGER' AND m.sql LIKE '%AUTOINCREMENT%' THEN 'bigint' ELSE p.type END \
         AS data_type, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'listings_fts%'",
    )
    .load::<ColumnInfo>(&mut sqlite)
    .expect("sqlite columns");

    let (pg_columns, sqlite_columns) = (normalise(pg_columns), normalise(sqlite_columns));
    assert!(pg_columns.len() > 20, "expected the whole schema, got {pg_columns:?}");
    let only_pg: Vec<_> = pg_columns.difference(&sqlite_columns).collect();
    let only_sqlite: Vec<_> = sqlite_columns.difference(&pg_columns).collect();
    assert!(
        only_pg.is_empty() && only_sqlite.is_empty(),
        "only in PostgreSQL: {only_pg:?}\nonly in SQLite: {only_sqlite:?}"
    );
}
