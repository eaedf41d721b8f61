//! Text a screen can show honestly.
//!
//! Every text field a person types (notes, places, titles, reports, contact
//! details, responses, progress notes) refuses control characters other than
//! newline and tab, characters that draw nothing, and the characters that
//! override the direction of the text around them. A control character can
//! hide or garble what is shown or exported; an invisible one (a zero-width
//! space, a line separator, a tag) can hide words from a reader or a search
//! while a machine reads them; a direction override can make "txt.exe" read
//! as "exe.txt", or a response appear to say the opposite of what it says.
//! All are refused, on the phone and again at the server, with a message
//! that names the field.

use thiserror::Error;

/// Why a piece of text was refused: the field, and the first character at fault.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("The {field} contains {}, which cannot be shown as written. Remove it (it often comes with pasted text) and try again.", describe(*character))]
pub struct UnsafeText {
    pub field: &'static str,
    pub character: char,
}

/// Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
/// The plain marks (U+200E, U+200F) only nudge neutral characters and are
/// allowed: right-to-left writers use them.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// C0 and C1 controls and DEL, except newline and tab.
fn is_refused_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Characters that draw nothing and join nothing: zero-width space, word
/// joiner and invisible operators, the byte-order mark, the line and
/// paragraph separators (a line break only some screens show). The joiners
/// U+200C and U+200D stay: scripts and emoji need them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Tag characters (U+E0000–U+E007F): invisible, and able to carry a whole
/// hidden sentence. Only a flag's own tags, after U+1F3F4 (the Scottish
/// and Welsh flags), are kept.
fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0000}'..='\u{E007F}')
}

const BLACK_FLAG: char = '\u{1F3F4}';

fn describe(c: char) -> String {
    let kind = if is_direction_override(c) {
        "a text-direction override"
    } else if is_refused_control(c) {
        "an invisible control character"
    } else {
        "an invisible character"
    };
    format!("{kind} (U+{:04X})", c as u32)
}

/// Why a typed text cannot be kept as it is.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    #[error("The {field} is {chars} characters long; the limit is {}. Shorten it by {} to save.", thousands(*max), chars - max)]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
    #[error(transparent)]
    Unsafe(#[from] UnsafeText),
    #[error("Write the {0} first.")]
    Empty(&'static str),
}

/// "4,000": limits are written as people read them.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The one rule for every typed text: trimmed, at most `max` characters (as
/// a person counts them), and nothing that cannot be shown as written.
/// Blank text is `None`; whether that is allowed is the caller's rule.
pub fn bounded(field: &'static str, value: &str, max: usize) -> Result<Option<String>, TextError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars > max {
        return Err(TextError::TooLong { field, chars, max });
    }
    check(field, value)?;
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// "1 note", "3 notes": a count with the word that fits it.
pub fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// Checks one field's text as it travels: no controls, no direction
/// overrides. Characters that draw nothing are refused only where a person
/// types ([`typed`]): text an earlier app sent with them is still taken,
/// and shown with them visible ([`shown`]).
pub fn check(field: &'static str, text: &str) -> Result<(), UnsafeText> {
    match text
        .chars()
        .find(|&c| is_refused_control(c) || is_direction_override(c))
    {
        Some(character) => Err(UnsafeText { field, character }),
        None => Ok(()),
    }
}

/// Each character of `text`, and whether it draws nothing (a flag's own
/// tags, after U+1F3F4, draw the flag).
fn with_hidden(text: &str) -> impl Iterator<Item = (char, bool)> + '_ {
    // The last character that was not a tag: a flag's tags follow it.
    let mut before_tags = None;
    text.chars().map(move |c| {
        let hidden = if is_tag(c) {
            before_tags != Some(BLACK_FLAG)
        } else {
            before_tags = Some(c);
            is_invisible(c)
        };
        (c, hidden)
    })
}

/// The first character in `text` that draws nothing.
fn first_invisible(text: &str) -> Option<char> {
    with_hidden(text)
        .find(|(_, hidden)| *hidden)
        .map(|(c, _)| c)
}

/// [`bounded`], for what a person types on a form: characters that draw
/// nothing are refused too (they often come with pasted text, and can hide
/// words from a reader).
pub fn typed(field: &'static str, value: &str, max: usize) -> Result<Option<String>, TextError> {
    let kept = bounded(field, value, max)?;
    match first_invisible(value) {
        Some(character) => Err(UnsafeText { field, character }.into()),
        None => Ok(kept),
    }
}

/// `text` with every character that draws nothing made visible, as
/// `⟨U+200B⟩`: what a reader sees is all the text holds.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if first_invisible(text).is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (c, hidden) in with_hidden(text) {
        if hidden {
            out.push_str(&format!("⟨U+{:04X}⟩", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_newlines_tabs_and_direction_marks_pass() {
        for ok in [
            "Street light out\n\tby the station",
            "مرحبا \u{200F}(Mill Lane)",
            "Émilie’s café — 24/7 🙂",
            // Joiners that build emoji and words, and a flag's own tags.
            "👩\u{200D}👧 crossing; می\u{200C}خواهم",
            "Scotland \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} fans",
            "",
        ] {
            assert_eq!(check("note", ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn controls_and_direction_overrides_are_refused_with_the_field_named() {
        for (bad, character) in [
            ("nul\0here", '\0'),
            ("escape \u{1b}[31m red", '\u{1b}'),
            ("carriage\rreturn", '\r'),
            ("delete\u{7f}", '\u{7f}'),
            ("c1 \u{85} next line", '\u{85}'),
            ("txt.\u{202E}exe", '\u{202E}'),
            ("isolate \u{2066}x\u{2069}", '\u{2066}'),
            ("embedding \u{202A}", '\u{202A}'),
        ] {
            assert_eq!(
                check("place", bad),
                Err(UnsafeText {
                    field: "place",
                    character
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bounded_text_is_trimmed_counted_in_characters_and_checked() {
        assert_eq!(bounded("note", "  hi \n", 10), Ok(Some("hi".into())));
        assert_eq!(bounded("note", " \n\t ", 10), Ok(None));
        assert_eq!(
            bounded("note", &"é".repeat(10), 10),
            Ok(Some("é".repeat(10)))
        );
        let err = bounded("note", &"a".repeat(4_001), 4_000).unwrap_err();
        assert_eq!(
            err,
            TextError::TooLong {
                field: "note",
                chars: 4_001,
                max: 4_000
            }
        );
        assert_eq!(
            err.to_string(),
            "The note is 4001 characters long; the limit is 4,000. Shorten it by 1 to save."
        );
        assert!(matches!(
            bounded("place", "a\u{202E}b", 10),
            Err(TextError::Unsafe(_))
        ));
        assert_eq!(thousands(120), "120");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn counts_take_the_word_that_fits() {
        assert_eq!(plural(0, "note", "notes"), "0 notes");
        assert_eq!(plural(1, "note", "notes"), "1 note");
        assert_eq!(plural(2, "record is", "records are"), "2 records are");
    }

    #[test]
    fn the_message_names_the_field_and_the_character() {
        let err = check("public response", "a\u{202E}b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "The public response contains a text-direction override (U+202E), which cannot be shown as written. Remove it (it often comes with pasted text) and try again."
        );
        let err = check("note", "a\u{0}b").unwrap_err();
        assert!(err
            .to_string()
            .contains("an invisible control character (U+0000)"));
        let err = typed("place", "a\u{200B}b", 10).unwrap_err();
        assert!(
            err.to_string().contains("an invisible character (U+200B)"),
            "{err}"
        );
    }

    #[test]
    fn what_draws_nothing_is_refused_where_typed_taken_on_the_wire_and_shown() {
        for (hidden, character) in [
            ("zero\u{200B}width", '\u{200B}'),
            ("line\u{2028}separator", '\u{2028}'),
            ("\u{FEFF}byte-order mark", '\u{FEFF}'),
            ("word\u{2060}joiner", '\u{2060}'),
            ("hidden \u{E0069}\u{E0067}\u{E006E}", '\u{E0069}'),
        ] {
            assert_eq!(
                typed("note", hidden, 100),
                Err(TextError::Unsafe(UnsafeText {
                    field: "note",
                    character
                })),
                "{hidden:?}"
            );
            // An earlier app may have sent it: the server takes it.
            assert_eq!(check("note", hidden), Ok(()), "{hidden:?}");
        }
        assert_eq!(shown("Mill\u{200B} Lane"), "Mill⟨U+200B⟩ Lane");
        assert_eq!(shown("hi \u{E0069}"), "hi ⟨U+E0069⟩");
        let flag = "Scotland \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(shown(flag), flag);
        assert_eq!(typed("note", flag, 100), Ok(Some(flag.into())));
        assert!(matches!(shown("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
