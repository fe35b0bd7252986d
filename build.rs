//! Rebuilds when a migration changes: `diesel_migrations::embed_migrations!` reads the
//! `migrations` directory at compile time, and cargo does not watch it by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
