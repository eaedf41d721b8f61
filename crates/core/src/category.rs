//! The fixed list of note categories.

use serde::{Deserialize, Serialize};

/// What a note is about. The list is fixed so that notes sort and count the
/// same way on every phone and on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    AntiSocialBehaviour,
    PoorLighting,
    HarassmentOrIntimidation,
    Drugs,
    WeaponsOrKnives,
    VandalismOrGraffiti,
    TrafficOrRoadSafety,
    PoliceVisibility,
    PositiveObservation,
    Other,
}

impl Category {
    /// Every category, in the order the capture screen offers them.
    pub const ALL: [Category; 10] = [
        Category::AntiSocialBehaviour,
        Category::PoorLighting,
        Category::HarassmentOrIntimidation,
        Category::Drugs,
        Category::WeaponsOrKnives,
        Category::VandalismOrGraffiti,
        Category::TrafficOrRoadSafety,
        Category::PoliceVisibility,
        Category::PositiveObservation,
        Category::Other,
    ];

    /// The stable machine name, used in storage, exports and form values.
    pub fn slug(self) -> &'static str {
        match self {
            Category::AntiSocialBehaviour => "anti_social_behaviour",
            Category::PoorLighting => "poor_lighting",
            Category::HarassmentOrIntimidation => "harassment_or_intimidation",
            Category::Drugs => "drugs",
            Category::WeaponsOrKnives => "weapons_or_knives",
            Category::VandalismOrGraffiti => "vandalism_or_graffiti",
            Category::TrafficOrRoadSafety => "traffic_or_road_safety",
            Category::PoliceVisibility => "police_visibility",
            Category::PositiveObservation => "positive_observation",
            Category::Other => "other",
        }
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Category::AntiSocialBehaviour => "Anti-social behaviour",
            Category::PoorLighting => "Poor lighting",
            Category::HarassmentOrIntimidation => "Harassment or intimidation",
            Category::Drugs => "Drugs",
            Category::WeaponsOrKnives => "Weapons or knives",
            Category::VandalismOrGraffiti => "Vandalism or graffiti",
            Category::TrafficOrRoadSafety => "Traffic or road safety",
            Category::PoliceVisibility => "Police visibility",
            Category::PositiveObservation => "Positive observation",
            Category::Other => "Other",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.slug() == slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_round_trips_and_matches_serde() {
        for category in Category::ALL {
            assert_eq!(Category::from_slug(category.slug()), Some(category));
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{}\"", category.slug()));
        }
    }

    #[test]
    fn unknown_slug_is_none() {
        assert_eq!(Category::from_slug("burglary"), None);
        assert_eq!(Category::from_slug(""), None);
    }
}
