fn main() {
    beatbook::mount();
}
