//! With the `openapi` feature, tells utoipa what the id aliases are (it matches types by name).

fn main() {
    #[cfg(feature = "openapi")]
    utoipa_config::Config::new()
        .alias_for("TicketId", "Uuid")
        .alias_for("EntryId", "Uuid")
        .alias_for("UserId", "Uuid")
        .alias_for("DepartmentCode", "String")
        .write_to_file();
}
