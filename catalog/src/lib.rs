//! `connect-ui-catalog`: brings real provider lists into the Connect UI catalog format and
//! checks catalogs before a widget or backend reads them. [`import_nango`] converts Nango's
//! `providers.yaml`; [`lint()`] reports what the parser and the pattern checks would work around.
//! The CLI (`src/main.rs`) and the tests of the widget and backend call these.

#![warn(missing_docs)]

mod engine;
pub mod lint;
pub mod nango;
mod template;

pub use engine::JsRegExpEngine;
pub use lint::{lint, EngineDifference, LintReport};
pub use nango::{import_nango, ImportError, ImportNote, ImportReport, RenamedKey, SCHEMA_URL};
