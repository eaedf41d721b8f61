//! The phone's own preferences, kept under `store::cache::SETTINGS`. They
//! are not synced, and a missing or unreadable value falls back to the
//! defaults.

use serde::{Deserialize, Serialize};

use crate::store::cache;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the phone's light or dark setting.
    #[default]
    System,
    Dark,
    Light,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Dark, Theme::Light];

    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "Same as the phone",
            Theme::Dark => "Dark",
            Theme::Light => "Light",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    /// Ask for a GPS fix for each new note.
    pub attach_location: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: Theme::System,
            attach_location: true,
        }
    }
}

impl Settings {
    pub fn load() -> Settings {
        cache::SETTINGS.read().unwrap_or_default()
    }

    /// Best effort: a preference that cannot be stored is not worth an alarm.
    pub fn store(&self) {
        let _ = cache::SETTINGS.write(self);
    }

    /// Sets `data-theme` on the page root; CSS does the rest.
    pub fn apply_theme(&self) {
        let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        let _ = match self.theme {
            Theme::System => root.remove_attribute("data-theme"),
            Theme::Dark => root.set_attribute("data-theme", "dark"),
            Theme::Light => root.set_attribute("data-theme", "light"),
        };
    }
}
