//! `GET /session` for a reconnect form and the picker's list of accounts: fetched once per
//! widget (`SessionSource`), its failure told by `SessionAlert` (with a way to ask again), the
//! end user's accounts shown by `ConnectedAccounts`.

use crate::api::{fetch_session, Endpoint};
use crate::form::state::SessionLoad;
use connect_ui_core::Messages;
#[cfg(feature = "picker")]
use connect_ui_core::ProviderSpec;
use leptos::prelude::*;
use std::sync::Arc;

/// The session as the backend described it, shared by a widget's forms and picker.
#[derive(Clone, Copy)]
pub struct SessionSource {
    /// Where the request stands, then its answer.
    pub state: RwSignal<SessionLoad>,
    /// Bumped to ask again after a failure.
    retry: RwSignal<u32>,
}

impl SessionSource {
    /// Fetches the session whenever `wanted` (tracked) gives an endpoint, and again on
    /// [`SessionSource::retry`]; an answer that arrives after a newer request is dropped.
    pub fn new(wanted: impl Fn() -> Option<Endpoint> + 'static) -> Self {
        let initial = if untrack(&wanted).is_some() {
            SessionLoad::Loading
        } else {
            SessionLoad::Idle
        };
        let state = RwSignal::new(initial);
        let retry = RwSignal::new(0u32);
        let latest = StoredValue::new(0u32);
        Effect::new(move |_| {
            retry.track();
            let Some(endpoint) = wanted() else {
                state.set(SessionLoad::Idle);
                return;
            };
            state.set(SessionLoad::Loading);
            let n = latest.get_value().wrapping_add(1);
            latest.set_value(n);
            leptos::task::spawn_local(async move {
                let result = fetch_session(&endpoint).await;
                // The widget may be gone, or have asked again, by the time the answer comes.
                if latest.try_get_value() == Some(n) {
                    state.try_set(match result {
                        Ok(view) => SessionLoad::Loaded(Arc::new(view)),
                        Err(error) => SessionLoad::Failed(error),
                    });
                }
            });
        });
        Self { state, retry }
    }

    /// Asks the backend again (the alert's button).
    pub fn retry(&self) {
        self.retry.update(|n| *n = n.wrapping_add(1));
    }
}

/// The translated alert shown when the session could not be read, with a button to try again;
/// the form stays as it is, so nothing typed is lost.
#[component]
pub fn SessionAlert(
    /// The session being read.
    source: SessionSource,
    /// The page's messages.
    messages: Signal<Messages>,
) -> impl IntoView {
    let failed = Memo::new(move |_| source.state.with(|s| matches!(s, SessionLoad::Failed(_))));
    move || {
        failed.get().then(|| {
            view! {
                <div class="cu-session-error" part="session-error" role="alert">
                    <p class="cu-session-error__text">
                        {move || messages.with(|m| m.t("session.failed"))}
                    </p>
                    <button
                        type="button"
                        class="cu-button cu-button--ghost cu-session-error__retry"
                        on:click=move |_| source.retry()
                    >
                        {move || messages.with(|m| m.t("session.retry"))}
                    </button>
                </div>
            }
        })
    }
}

/// The end user's connected accounts (provider and label), read-only, above the picker when
/// the host asked for them (`showConnections`).
#[cfg(feature = "picker")]
#[component]
pub fn ConnectedAccounts(
    /// The session that lists them.
    source: SessionSource,
    /// The page's messages.
    messages: Signal<Messages>,
    /// Providers by id, for their names.
    providers: Signal<Vec<ProviderSpec>>,
) -> impl IntoView {
    let title_id = format!("cu-accounts-{}", crate::form::next_instance_id());
    move || {
        let list = source.state.with(|s| match s {
            SessionLoad::Loaded(view) if !view.connections.is_empty() => {
                Some(view.connections.clone())
            }
            _ => None,
        })?;
        let rows = list
            .into_iter()
            .map(|c| {
                let name = providers.with_untracked(|all| {
                    all.iter()
                        .find(|p| p.id == c.provider)
                        .map_or(c.provider.clone(), |p| p.name.clone())
                });
                view! {
                    <li class="cu-accounts__item" data-provider=c.provider.clone()>
                        <span class="cu-accounts__provider">{name}</span>
                        {c.label.map(|l| view! { <span class="cu-accounts__label">{l}</span> })}
                    </li>
                }
            })
            .collect_view();
        let (labelled_by, title_id) = (title_id.clone(), title_id.clone());
        Some(view! {
            <section class="cu-accounts" part="accounts" aria-labelledby=labelled_by>
                <h3 id=title_id class="cu-accounts__title">
                    {move || messages.with(|m| m.t("picker.accounts"))}
                </h3>
                <ul class="cu-accounts__list">{rows}</ul>
            </section>
        })
    }
}
