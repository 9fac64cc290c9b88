fn main() {
    uniffi::generate_scaffolding("src/shapes.udl").unwrap();
}
