//! The one error type of the store.

/// What can go wrong when reading or writing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// A unique rule was broken: the thing exists already.
    #[error("already exists")]
    Conflict,
    /// The database URL names no backend Dialoog supports.
    #[error("unsupported database URL: use postgres://… or sqlite:…")]
    UnsupportedUrl,
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The disk (or the database's allowed size) is full: nothing of
    /// this write was stored; what was stored before is intact.
    #[error("the disk is full")]
    Full,
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            sqlx::Error::Database(d) if d.code().as_deref().is_some_and(is_full_code) => {
                StoreError::Full
            }
            sqlx::Error::Io(io) if io.raw_os_error() == Some(ENOSPC) => StoreError::Full,
            _ => StoreError::Database(e),
        }
    }
}

/// "No space left on device".
const ENOSPC: i32 = 28;

/// SQLite's `SQLITE_FULL` (13, in the low byte of an extended code) and
/// PostgreSQL's `disk_full` (53100).
fn is_full_code(code: &str) -> bool {
    code == "53100" || code.parse::<i32>().is_ok_and(|c| c & 0xff == 13)
}

#[cfg(test)]
mod tests {
    use super::is_full_code;

    #[test]
    fn full_disks_are_known_by_their_codes() {
        assert!(is_full_code("13"));
        assert!(is_full_code("53100"));
        assert!(!is_full_code("2067"), "a unique violation");
        assert!(!is_full_code("23505"));
        assert!(!is_full_code("5"), "busy");
    }
}
