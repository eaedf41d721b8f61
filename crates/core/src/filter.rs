//! Finding notes: by shift, by category and by words in the text.

use uuid::Uuid;

use crate::category::Category;
use crate::note::Note;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShiftFilter {
    #[default]
    Any,
    /// Notes taken while no shift was running.
    NoShift,
    Shift(Uuid),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoteFilter {
    pub shift: ShiftFilter,
    pub category: Option<Category>,
    /// Words that must all appear in the text or the place, in any case.
    pub query: String,
}

/// A filter with its search words prepared once for a whole list.
pub struct Matcher<'a> {
    filter: &'a NoteFilter,
    words: Vec<String>,
}

impl NoteFilter {
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher {
            filter: self,
            words: self
                .query
                .split_whitespace()
                .map(str::to_lowercase)
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == NoteFilter::default()
    }
}

impl Matcher<'_> {
    pub fn matches(&self, note: &Note) -> bool {
        let shift_ok = match self.filter.shift {
            ShiftFilter::Any => true,
            ShiftFilter::NoShift => note.shift_id.is_none(),
            ShiftFilter::Shift(id) => note.shift_id == Some(id),
        };
        let category_ok = self.filter.category.is_none_or(|c| c == note.category);
        shift_ok && category_ok && self.words_match(note)
    }

    fn words_match(&self, note: &Note) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let mut haystack = note.text.to_lowercase();
        if let Some(place) = &note.place {
            haystack.push('\n');
            haystack.push_str(&place.to_lowercase());
        }
        self.words
            .iter()
            .all(|word| haystack.contains(word.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn note(text: &str, place: &str, category: Category, shift: Option<Uuid>) -> Note {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        crate::test_support::note(id.into(), now)
            .text(text)
            .place(place)
            .category(category)
            .shift(shift)
            .build()
    }

    #[test]
    fn all_words_must_match_text_or_place_ignoring_case() {
        let n = note(
            "Group of youths shouting",
            "By the STATION underpass",
            Category::Other,
            None,
        );
        let f = |q: &str| NoteFilter {
            query: q.into(),
            ..NoteFilter::default()
        };
        assert!(f("youths station").matcher().matches(&n));
        assert!(f("  UNDERPASS ").matcher().matches(&n));
        assert!(!f("youths park").matcher().matches(&n));
        assert!(f("").matcher().matches(&n));
    }

    #[test]
    fn filters_by_shift_and_category() {
        let shift = Uuid::from_u128(9);
        let in_shift = note("a", "", Category::Drugs, Some(shift));
        let loose = note("b", "", Category::Drugs, None);
        let by_shift = NoteFilter {
            shift: ShiftFilter::Shift(shift),
            ..NoteFilter::default()
        };
        assert!(by_shift.matcher().matches(&in_shift));
        assert!(!by_shift.matcher().matches(&loose));
        let no_shift = NoteFilter {
            shift: ShiftFilter::NoShift,
            ..NoteFilter::default()
        };
        assert!(no_shift.matcher().matches(&loose));
        assert!(!no_shift.matcher().matches(&in_shift));
        let lighting = NoteFilter {
            category: Some(Category::PoorLighting),
            ..NoteFilter::default()
        };
        assert!(!lighting.matcher().matches(&in_shift));
        assert!(NoteFilter::default().is_empty());
        assert!(!lighting.is_empty());
    }
}
