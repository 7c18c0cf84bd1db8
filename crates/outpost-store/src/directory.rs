//! Who and what the desk can pick from: users (as the server last sent them), and departments and
//! reply templates as this device sees them (server truth with an admin's queued edits,
//! `admin.rs`).

use outpost_core::model::{Department, Template, User, UserId};
use rusqlite::OptionalExtension;
use serde::de::DeserializeOwned;

use crate::{corrupt, Result, Store};

/// The people and departments the assignee and department controls offer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Directory {
    /// Active users first, then by name.
    pub users: Vec<User>,
    /// Every department by code, retired ones included (`active` says which are offered), so
    /// older tickets still show their department's name.
    pub departments: Vec<Department>,
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
        let mut departments = self.admin.departments.clone();
        // Departments named only by users (an older server sends no department list) show
        // their code as their name.
        for code in users.iter().flat_map(|u| u.departments.iter()) {
            if !departments.iter().any(|d| &d.code == code) {
                departments.push(Department {
                    code: code.clone(),
                    name: code.clone(),
                    active: true,
                });
            }
        }
        departments.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Directory { users, departments })
    }

    /// A user as the server last sent them.
    pub fn user(&self, id: UserId) -> Result<Option<User>> {
        let doc: Option<String> = self
            .conn
            .prepare_cached("SELECT doc FROM users WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?;
        doc.map(|d| serde_json::from_str(&d).map_err(corrupt))
            .transpose()
    }

    /// Reply templates and macros in use, by language then name.
    pub fn templates(&self) -> Result<Vec<Template>> {
        Ok(self
            .admin
            .templates
            .iter()
            .filter(|t| t.active)
            .cloned()
            .collect())
    }
}
