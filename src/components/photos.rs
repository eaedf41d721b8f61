//! Photos on a note: taken or chosen on the capture form (each kept on the
//! phone as soon as it is picked), and shown on the note with where each one
//! stands.

use beatbook_core::photo::{ListedPhoto, PhotoForm, PhotoOwner, PhotoState, MAX_PHOTOS};
use beatbook_core::report::PHOTO_FIELD;
use beatbook_core::team::Action;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::kept::use_fetched;
use crate::photos::{Shelf, Shown};
use crate::sync::{self, SyncEngine};

/// "Take a photo" and "From the gallery", and the photos picked so far,
/// each removable before the note is saved.
#[component]
pub fn PhotoPicker(#[prop(into)] photos: Signal<Vec<Shown>>, form: PhotoForm) -> impl IntoView {
    let shelf = expect_context::<Shelf>();
    shelf.load();
    let preparing = move || shelf.preparing_on(form);
    let error = RwSignal::new(None::<String>);
    // Once the form's photos have gone with a saved record, what was said
    // about them goes too.
    Effect::new(move |before: Option<usize>| {
        let now = photos.with(Vec::len) + preparing();
        if now == 0 && before.is_some_and(|n| n > 0) {
            error.set(None);
        }
        now
    });
    let room = move || MAX_PHOTOS.saturating_sub(photos.with(Vec::len) + preparing());
    // The buttons are drawn again only when room comes or goes.
    let has_room = Memo::new(move |_| room() > 0);
    let picked = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        // The same picture may be picked again later.
        input.set_value("");
        let room = room();
        error.set((files.len() > room).then(|| {
            let what = form.noun();
            format!(
                "A {what} takes at most {MAX_PHOTOS} photos; the first {room} picked are added."
            )
        }));
        if files.is_empty() {
            return;
        }
        crate::pwa::ask_to_keep_storage();
        for file in files.into_iter().take(room) {
            let taking = shelf.take(&file, form);
            spawn_local(async move {
                if let Err(e) = taking.await {
                    error.set(Some(e));
                }
            });
        }
    };
    let remove = move |id| {
        spawn_local(async move {
            if let Err(e) = shelf.discard(&[id]).await {
                error.set(Some(format!("The photo could not be removed: {e}.")));
            }
        })
    };
    let keep = move |id| {
        spawn_local(async move {
            error.set(shelf.keep(id).await.err());
        })
    };
    view! {
        <div class="photos" data-testid="photo-picker">
            <p class="label">"Photos (optional)"</p>
            <ul class="thumbs">
                {move || photos.get().into_iter().enumerate().map(|(i, p)| {
                    let id = p.kept.id;
                    let held = !p.is_kept();
                    view! {
                        <li data-testid="picked-photo">
                            <img src=p.url.clone() alt=format!("Photo {} to attach", i + 1) width="96" height="96"/>
                            {if held {
                                view! {
                                    <p class="muted" data-testid="photo-state">{NOT_KEPT}</p>
                                    <PhotoChoices id url=p.url on_retry=Callback::new(keep) on_remove=Callback::new(remove)/>
                                }.into_any()
                            } else {
                                view! { <button type="button" class="link" data-testid="remove-photo" on:click=move |_| remove(id)>"Remove"</button> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || (preparing() > 0).then(|| view! { <p class="muted" role="status">"Preparing the photo…"</p> })}
            {move || has_room.get().then(|| view! {
                <div class="row">
                    <label class="button secondary">
                        "Take a photo"
                        <input type="file" accept="image/*" capture="environment" class="visually-hidden"
                            data-testid="photo-camera" on:change=picked/>
                    </label>
                    <label class="button secondary">
                        "From the gallery"
                        // Named as the plain form's photo field, whose focus it takes over.
                        <input type="file" accept="image/*" multiple class="visually-hidden" name=PHOTO_FIELD
                            data-testid="photo-gallery" on:change=picked/>
                    </label>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="photo-error">{e}</p> })}
        </div>
    }
}

/// A photo held on screen only, in words.
const NOT_KEPT: &str = "Not kept on this phone yet";

/// What to do with a photo that is stuck (held on screen only, or refused):
/// try again, download it, or remove it.
#[component]
fn PhotoChoices(
    id: uuid::Uuid,
    url: String,
    on_retry: Callback<uuid::Uuid>,
    on_remove: Callback<uuid::Uuid>,
) -> impl IntoView {
    view! {
        <div class="row">
            <button type="button" class="link" data-testid="retry-photo" on:click=move |_| on_retry.run(id)>"Try again"</button>
            <a href=url download=format!("beatbook-photo-{id}.jpg") data-testid="download-photo">"Download"</a>
            <button type="button" class="link" data-testid="remove-photo" on:click=move |_| on_remove.run(id)>"Remove"</button>
        </div>
    }
}

/// What a photo's state says to the person holding the phone.
fn state_words(photo: &Shown) -> String {
    match (&photo.kept.state, photo.is_kept()) {
        (PhotoState::Sent, false) => return "Sent (not kept on this phone)".into(),
        (_, false) => return NOT_KEPT.into(),
        _ => {}
    }
    match &photo.kept.state {
        PhotoState::OnPhone => "On this phone, not sent yet".into(),
        PhotoState::Sent => "Sent".into(),
        PhotoState::Refused { reason } => format!("Refused by the server: {reason}"),
    }
}

/// A saved record's photos, each with where it stands; a refused one can be
/// tried again, downloaded or removed.
#[component]
pub fn RecordPhotos(owner: PhotoOwner) -> impl IntoView {
    let shelf = expect_context::<Shelf>();
    shelf.load();
    let engine = use_context::<SyncEngine>();
    let photos = Memo::new(move |_| {
        shelf.photos.track();
        shelf.of(Some(owner))
    });
    let error = RwSignal::new(None::<String>);
    let retry = move |id| {
        spawn_local(async move {
            let held = shelf
                .photos
                .with_untracked(|all| all.iter().any(|p| p.kept.id == id && !p.is_kept()));
            if held {
                error.set(shelf.keep(id).await.err());
                return;
            }
            match shelf.change(&[id], |k| k.state = PhotoState::OnPhone).await {
                Ok(()) => {
                    if let Some(engine) = engine {
                        engine.sync_now();
                    }
                }
                Err(e) => error.set(Some(format!("The photo could not be changed: {e}."))),
            }
        })
    };
    let remove = move |id| {
        spawn_local(async move {
            if let Err(e) = shelf.discard(&[id]).await {
                error.set(Some(format!("The photo could not be removed: {e}.")));
            }
        })
    };
    view! {
        {move || (!photos.with(Vec::is_empty)).then(|| view! {
            <h3 class="label">"Photos"</h3>
            <ul class="thumbs saved" data-testid="note-photos">
                {photos.get().into_iter().enumerate().map(|(i, p)| {
                    let id = p.kept.id;
                    let stuck = match p.kept.state {
                        PhotoState::Refused { .. } => true,
                        PhotoState::Sent => false,
                        PhotoState::OnPhone => !p.is_kept(),
                    };
                    view! {
                        <li data-testid="note-photo">
                            <img src=p.url.clone() alt=format!("Photo {}", i + 1) width="96" height="96"/>
                            <p class="muted" data-testid="photo-state">{state_words(&p)}</p>
                            {stuck.then(|| view! {
                                <PhotoChoices id url=p.url.clone() on_retry=Callback::new(retry) on_remove=Callback::new(remove)/>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

/// "12.3 MB": a size in words.
fn size_words(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.0} KB", (bytes / 1e3).ceil())
    }
}

/// The photos on this phone, and the space the browser gives Beatbook: how
/// much is used and how much is left (the browser's own estimate), and
/// whether it has promised not to clear it.
#[component]
pub fn PhotoSpace() -> impl IntoView {
    let shelf = expect_context::<Shelf>();
    shelf.load();
    let space = RwSignal::new(None::<String>);
    spawn_local(async move {
        let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
            return;
        };
        let estimate = match storage.estimate() {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.ok(),
            Err(_) => None,
        };
        let kept = match storage.persisted() {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .ok()
                .and_then(|v| v.as_bool()),
            Err(_) => None,
        };
        let estimate: Option<web_sys::StorageEstimate> = estimate.map(|e| e.unchecked_into());
        let words = estimate
            .and_then(|e| Some((e.get_usage()?, e.get_quota()?)))
            .map(|(used, quota)| {
                format!(
                    "Beatbook uses {} of this phone's storage; about {} more is available.",
                    size_words(used),
                    size_words((quota - used).max(0.0))
                )
            });
        let promise = match kept {
            Some(true) => " The browser has promised to keep it.",
            Some(false) => " The browser may clear it if the phone runs short of space: add Beatbook to your home screen.",
            None => "",
        };
        space.set(words.map(|w| format!("{w}{promise}")));
    });
    let summary = move || {
        shelf.photos.with(|all| {
            let waiting = all
                .iter()
                .filter(|p| p.kept.state != PhotoState::Sent)
                .count();
            let bytes: u64 = all.iter().map(|p| p.kept.bytes).sum();
            format!(
                "{} photos on this phone ({}); {waiting} not sent yet.",
                all.len(),
                size_words(bytes as f64)
            )
        })
    };
    view! {
        <p data-testid="photo-space">{summary}</p>
        {move || space.get().map(|s| view! { <p class="muted" data-testid="storage-space">{s}</p> })}
        {move || shelf.problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
    }
}

/// A report's photos on its public status page: only those the councillor
/// has made public. (Not kept for offline reading: a photo is large.)
#[component]
pub fn PublicPhotos(code: String) -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let server = engine
        .pairing
        .with_untracked(|p| sync::server_of(p.as_ref()));
    // A failed fetch shows nothing: the page reads the same without them.
    let listing = use_fetched(move |pairing| {
        let server = sync::server_of(pairing.as_ref());
        let code = code.clone();
        Some(async move { sync::fetch_report_photos(&server, &code, None).await })
    })
    .value;
    view! {
        {move || listing.get().map(|l| l.photos).filter(|p| !p.is_empty()).map(|listed| view! {
            <h3 class="label">"Photos"</h3>
            <ul class="thumbs public" data-testid="public-photos">
                {listed.into_iter().enumerate().map(|(i, p)| view! {
                    <li><img src=sync::photo_url(&server, p.id) alt=format!("Photo {} of the place", i + 1)
                        width="160" height=(160 * p.height / p.width.max(1)).to_string() loading="lazy"/></li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// A report's photos for the councillor, fetched with the token, each with
/// "Show on the public page" (faces and number plates are looked at first).
#[component]
pub fn ReviewPhotos(
    code: String,
    /// How many the server said it holds: with none, nothing is offered.
    count: u32,
) -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let publishes = super::may(Action::PublishPhotos).get_untracked();
    let shown = RwSignal::new(Vec::<(ListedPhoto, String)>::new());
    let error = RwSignal::new(None::<String>);
    // Fetched when asked for: an inbox of many reports does not download
    // every photo over a weak signal.
    let asked = RwSignal::new(false);
    let none = RwSignal::new(false);
    let code = StoredValue::new(code);
    let load = move || {
        asked.set(true);
        spawn_local(async move {
            let Some(pairing) = engine.pairing.get_untracked() else {
                return;
            };
            let code = code.get_value();
            let listing =
                match sync::fetch_report_photos(&pairing.server, &code, Some(&pairing)).await {
                    Ok(listing) => listing,
                    Err(e) => {
                        error.set(Some(format!("The photos could not be fetched: {e}.")));
                        return;
                    }
                };
            if listing.photos.is_empty() {
                none.set(true);
            }
            for photo in listing.photos {
                match sync::fetch_photo(&pairing, photo.id).await {
                    Ok(url) => shown.update(|all| all.push((photo, url))),
                    Err(e) => error.set(Some(format!("A photo could not be fetched: {e}."))),
                }
            }
        });
    };
    let toggle = move |id, public: bool| {
        spawn_local(async move {
            let Some(pairing) = engine.pairing.get_untracked() else {
                return;
            };
            match sync::set_photo_public(&pairing, id, public).await {
                Ok(()) => shown.update(|all| {
                    for (p, _) in all.iter_mut().filter(|(p, _)| p.id == id) {
                        p.public = public;
                    }
                }),
                Err(e) => error.set(Some(format!("Not changed: {e}."))),
            }
        });
    };
    view! {
        {move || (count > 0 && !asked.get()).then(|| view! {
            <button type="button" class="secondary" data-testid="show-photos" on:click=move |_| load()>{
                if count == 1 { "Show the resident's photo".to_owned() } else { format!("Show the resident's {count} photos") }
            }</button>
        })}
        {move || none.get().then(|| view! { <p class="muted" data-testid="no-photos">"No photos came with this report."</p> })}
        {move || (!shown.with(Vec::is_empty)).then(|| view! {
            <ul class="thumbs" data-testid="review-photos">
                {shown.get().into_iter().enumerate().map(|(i, (p, url))| {
                    let id = p.id;
                    let link = url.clone();
                    view! {
                        <li data-testid="review-photo">
                            <a href=link target="_blank"><img src=url alt=format!("Photo {} from the resident", i + 1) width="96" height="96"/></a>
                            {publishes.then(|| view! {
                            <label class="check">
                                <input type="checkbox" data-testid="photo-public" prop:checked=p.public
                                    on:change=move |ev| toggle(id, event_target_checked(&ev))/>
                                "Show on the public page"
                            </label>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}
