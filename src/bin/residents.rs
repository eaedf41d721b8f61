//! The residents' entry: the pages anyone may open, without the notebook.
fn main() {
    beatbook::mount_residents();
}
