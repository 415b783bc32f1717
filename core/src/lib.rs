//! Connect UI core: the provider catalog, field normalisation and validation, and the
//! request/response types of the backend contract. No browser dependencies, so the widget and
//! the reference backend apply the same rules.

pub mod catalog;
pub mod color;
pub mod contract;
pub mod events;
pub mod i18n;
pub mod options;
pub mod pattern;
pub mod validate;
pub mod value;

pub use catalog::{
    builtin_catalog, safe_link, AuthKind, AuthModeSpec, Catalog, CatalogError, CatalogIssue,
    FieldGroup, FieldHint, FieldSpec, Format, GuideSection, HintKind, IssueKind, Parsed,
    ProviderSpec, Verification,
};
pub use contract::{
    interpret_response, ApiError, ConnectionCreated, ConnectionRequest, ConnectionSummary,
    ErrorBody, LabelPolicy, SessionView, SubmitError, LABEL_MAX_CHARS,
};
pub use events::{ConnectEvent, EVENT_VERSION};
pub use i18n::Messages;
pub use options::{parse_mount_options, MountOptions, Theme};
pub use pattern::{NoPatterns, PatternEngine};
pub use validate::{normalize_value, validate_field, validate_label, validate_request, FieldError};
pub use value::Value;

#[cfg(feature = "regex")]
pub use pattern::RegexLiteEngine;

#[cfg(feature = "js-regex")]
pub use pattern::JsRegExpEngine;
