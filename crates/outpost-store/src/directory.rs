//! Who and what the desk can pick from: users, departments and reply templates, as the server
//! last sent them (pull pages carry them; nothing here is edited locally).

use outpost_core::model::{Department, Template, User};
use serde::de::DeserializeOwned;

use crate::{corrupt, Result, Store};

/// The people and departments the assignee and department controls offer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Directory {
    /// Active users first, then by name.
    pub users: Vec<User>,
    /// Department codes, sorted.
    pub departments: Vec<String>,
}

impl Store {
    fn docs<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|doc| serde_json::from_str(&doc?).map_err(corrupt))
            .collect()
    }

    /// Users and departments known to this cache.
    pub fn directory(&self) -> Result<Directory> {
        let mut users: Vec<User> = self.docs("SELECT doc FROM users")?;
        users.sort_by(|a, b| (!a.active, &a.name).cmp(&(!b.active, &b.name)));
        let departments: Vec<Department> = self.docs("SELECT doc FROM departments")?;
        let mut departments: Vec<String> = departments.into_iter().map(|d| d.code).collect();
        // Departments named only by users (an older server sends no department list).
        departments.extend(users.iter().flat_map(|u| u.departments.iter().cloned()));
        departments.sort();
        departments.dedup();
        Ok(Directory { users, departments })
    }

    /// Reply templates, by language then name.
    pub fn templates(&self) -> Result<Vec<Template>> {
        let mut templates: Vec<Template> = self.docs("SELECT doc FROM templates")?;
        templates.sort_by(|a, b| (&a.language, &a.name).cmp(&(&b.language, &b.name)));
        Ok(templates)
    }
}
