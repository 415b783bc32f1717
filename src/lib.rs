//! Connect UI: an embeddable Leptos widget that renders a provider's credential form,
//! validates as the user types, posts the result to the host's backend and reports back.
//!
//! Logic (catalog, validation, contract) lives in `connect-ui-core`; this crate is the view.

pub mod api;
pub mod catalog;
pub mod dom;
#[cfg(feature = "embed")]
pub mod embed;
pub mod form;
pub mod host;
pub mod i18n;
pub mod js;
pub mod panic;
#[cfg(feature = "picker")]
pub mod picker;
pub mod regexp;
mod registry;
pub mod session;
pub mod ui;

pub use connect_ui_core as core;
pub use form::{ConnectForm, ProviderChoice};
pub use host::FormHost;
pub use i18n::Strings;
pub use panic::install_panic_hook;
#[cfg(feature = "picker")]
pub use picker::ProviderPicker;
pub use ui::ConnectUi;
