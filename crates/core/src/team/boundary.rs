//! A ward's boundary: the polygon or multipolygon its council publishes as
//! GeoJSON (RFC 7946), and whether a place lies inside it.
//!
//! Positions are `[longitude, latitude]`, as GeoJSON orders them. Each
//! polygon is an outer ring and any holes; a place is inside a polygon when
//! it is inside the outer ring and in none of its holes (the even-odd rule,
//! on the plane: wards are small enough that the earth's curve does not
//! move a boundary by more than a GPS fix's error).

use serde_json::Value;

/// The most positions a boundary may have: a detailed ward boundary has a
/// few thousand.
pub const MAX_POSITIONS: usize = 200_000;

/// A ward's area: one or more polygons.
#[derive(Clone, Debug, PartialEq)]
pub struct Boundary {
    polygons: Vec<Polygon>,
}

/// An outer ring, then its holes; each ring closed (its last position is
/// its first).
#[derive(Clone, Debug, PartialEq)]
struct Polygon {
    rings: Vec<Vec<[f64; 2]>>,
}

/// Why a file is not a boundary, said so that whoever gave it can mend it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BoundaryError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error(
        "no polygon in it: give a GeoJSON Polygon or MultiPolygon, or a Feature or \
         FeatureCollection of them (found {0})"
    )]
    NoPolygon(String),
    #[error("a position is not [longitude, latitude] within range: {0}")]
    BadPosition(String),
    #[error("a ring has fewer than four positions, or does not end where it begins")]
    OpenRing,
    #[error("more than {MAX_POSITIONS} positions")]
    TooLarge,
}

impl Boundary {
    /// Reads a boundary from GeoJSON: a Polygon or MultiPolygon geometry,
    /// or a Feature or FeatureCollection whose polygons together make the
    /// ward (other geometries in a collection, such as a label's point,
    /// are passed over).
    pub fn from_geojson(text: &str) -> Result<Boundary, BoundaryError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| BoundaryError::NotJson(e.to_string()))?;
        let mut polygons = Vec::new();
        let mut positions = 0;
        collect(&value, &mut polygons, &mut positions)?;
        if polygons.is_empty() {
            let found = value["type"].as_str().unwrap_or("no \"type\"").to_owned();
            return Err(BoundaryError::NoPolygon(found));
        }
        Ok(Boundary { polygons })
    }

    /// The boundary as a GeoJSON MultiPolygon geometry, as it is kept.
    pub fn to_geojson(&self) -> String {
        let coordinates: Vec<&Vec<Vec<[f64; 2]>>> =
            self.polygons.iter().map(|p| &p.rings).collect();
        serde_json::json!({ "type": "MultiPolygon", "coordinates": coordinates }).to_string()
    }

    /// Whether the place at `latitude`, `longitude` lies inside.
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        let point = [longitude, latitude];
        self.polygons.iter().any(|polygon| {
            let mut rings = polygon.rings.iter();
            rings.next().is_some_and(|outer| inside(outer, point))
                && !rings.any(|hole| inside(hole, point))
        })
    }
}

/// The polygons of a GeoJSON object, added to `out`.
fn collect(
    value: &Value,
    out: &mut Vec<Polygon>,
    positions: &mut usize,
) -> Result<(), BoundaryError> {
    match value["type"].as_str() {
        Some("FeatureCollection") => {
            for feature in value["features"].as_array().into_iter().flatten() {
                collect(feature, out, positions)?;
            }
        }
        Some("Feature") => collect(&value["geometry"], out, positions)?,
        Some("GeometryCollection") => {
            for geometry in value["geometries"].as_array().into_iter().flatten() {
                collect(geometry, out, positions)?;
            }
        }
        Some("Polygon") => out.push(polygon(&value["coordinates"], positions)?),
        Some("MultiPolygon") => {
            let polygons = value["coordinates"].as_array().ok_or_else(|| {
                BoundaryError::NoPolygon("a MultiPolygon with no coordinates".into())
            })?;
            for p in polygons {
                out.push(polygon(p, positions)?);
            }
        }
        _ => {}
    }
    Ok(())
}

fn polygon(coordinates: &Value, positions: &mut usize) -> Result<Polygon, BoundaryError> {
    let rings = coordinates
        .as_array()
        .filter(|rings| !rings.is_empty())
        .ok_or(BoundaryError::OpenRing)?;
    let rings = rings
        .iter()
        .map(|ring| {
            let ring = ring.as_array().ok_or(BoundaryError::OpenRing)?;
            *positions += ring.len();
            if *positions > MAX_POSITIONS {
                return Err(BoundaryError::TooLarge);
            }
            let ring: Vec<[f64; 2]> = ring.iter().map(position).collect::<Result<_, _>>()?;
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err(BoundaryError::OpenRing);
            }
            Ok(ring)
        })
        .collect::<Result<_, _>>()?;
    Ok(Polygon { rings })
}

fn position(value: &Value) -> Result<[f64; 2], BoundaryError> {
    let bad = || BoundaryError::BadPosition(value.to_string());
    let pair = value.as_array().filter(|p| p.len() >= 2).ok_or_else(bad)?;
    let (longitude, latitude) = (
        pair[0].as_f64().ok_or_else(bad)?,
        pair[1].as_f64().ok_or_else(bad)?,
    );
    if !(-180.0..=180.0).contains(&longitude) || !(-90.0..=90.0).contains(&latitude) {
        return Err(bad());
    }
    Ok([longitude, latitude])
}

/// Whether `point` is inside the closed `ring`: a ray from it crosses the
/// ring's edges an odd number of times.
fn inside(ring: &[[f64; 2]], [x, y]: [f64; 2]) -> bool {
    let mut inside = false;
    for edge in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (edge[0], edge[1]);
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square ward from (0,0) to (10,10), as a Feature.
    const SQUARE: &str = r#"{"type":"Feature","properties":{"name":"Square"},
        "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}}"#;

    #[test]
    fn a_place_is_inside_a_polygon_and_outside_its_holes() {
        let ward = Boundary::from_geojson(
            r#"{"type":"Polygon","coordinates":[
                [[0,0],[10,0],[10,10],[0,10],[0,0]],
                [[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#,
        )
        .unwrap();
        assert!(ward.contains(2.0, 2.0));
        assert!(!ward.contains(5.0, 5.0), "in the hole");
        assert!(!ward.contains(11.0, 5.0));
        assert!(!ward.contains(5.0, -0.1));
    }

    #[test]
    fn a_multipolygon_and_a_collection_of_features_are_one_ward() {
        let collection = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[
                [[[0,0],[1,0],[1,1],[0,1],[0,0]]],
                [[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[0.5,0.5]}}]}"#;
        let ward = Boundary::from_geojson(collection).unwrap();
        assert!(ward.contains(0.5, 0.5));
        assert!(ward.contains(5.5, 5.5));
        assert!(!ward.contains(3.0, 3.0), "between its parts");
    }

    #[test]
    fn a_concave_ward_holds_only_its_own_streets() {
        // An L: the notch at the top right is outside.
        let ward = Boundary::from_geojson(
            r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,5],[5,5],[5,10],[0,10],[0,0]]]}"#,
        )
        .unwrap();
        assert!(ward.contains(8.0, 2.0));
        assert!(ward.contains(2.0, 8.0));
        assert!(!ward.contains(8.0, 8.0));
    }

    #[test]
    fn kept_and_read_again_it_is_the_same_boundary() {
        let ward = Boundary::from_geojson(SQUARE).unwrap();
        assert_eq!(Boundary::from_geojson(&ward.to_geojson()).unwrap(), ward);
    }

    #[test]
    fn what_is_not_a_boundary_is_refused_with_the_reason() {
        let refused = |text: &str| Boundary::from_geojson(text).unwrap_err();
        assert!(matches!(refused("{"), BoundaryError::NotJson(_)));
        assert_eq!(
            refused(r#"{"type":"Point","coordinates":[0,0]}"#),
            BoundaryError::NoPolygon("Point".into())
        );
        assert_eq!(
            refused(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#),
            BoundaryError::OpenRing
        );
        assert_eq!(
            refused(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#),
            BoundaryError::OpenRing
        );
        assert!(matches!(
            refused(r#"{"type":"Polygon","coordinates":[[[0,0],[200,0],[1,1],[0,0]]]}"#),
            BoundaryError::BadPosition(_)
        ));
        assert!(matches!(
            refused(r#"{"type":"Polygon","coordinates":[[[0,0],["a",0],[1,1],[0,0]]]}"#),
            BoundaryError::BadPosition(_)
        ));
        let huge = format!(
            r#"{{"type":"Polygon","coordinates":[[{}[0,0]]]}}"#,
            "[0,0],".repeat(MAX_POSITIONS)
        );
        assert_eq!(refused(&huge), BoundaryError::TooLarge);
    }
}
