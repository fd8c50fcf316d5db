//! Entry point of the PWA's wasm binary: mounts the app on the page.

fn main() {
    tramyte_web::start();
}
