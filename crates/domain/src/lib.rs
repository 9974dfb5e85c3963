//! Dialoog's domain: the types and rules every other crate shares. No I/O.
//!
//! Values that reach the domain are parsed once into types that can only hold
//! valid values ("parse, don't validate"); a failed parse is a [`FieldError`]
//! that names the field and carries a stable code the web layer translates.

pub mod access;
pub mod error;
pub mod input;
pub mod locale;
pub mod outside;
pub mod schedule;
pub mod sla;
pub mod time;

pub use access::{Action, Role};
pub use error::FieldError;
pub use input::{Email, Password, PersonName, Timezone, WorkspaceName};
pub use locale::Locale;
