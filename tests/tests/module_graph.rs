//! The module graphs of `outpost-server` and `outpost-store` have no cycles.
//!
//! A module depends on another when its code names it through a `crate::`, `super::` or `self::`
//! path: in `use` trees (groups such as `use crate::{a, b::c}` included), types, expressions,
//! patterns and the input of macros (`format!("{}", crate::a::NAME)`). Comments, doc links and
//! string literals are not code and do not count.
//!
//! The nodes are a crate's top-level modules: a nested module (inline or in its own file) counts
//! as the top-level module it sits in. The crate root is not a node: it declares the modules and
//! re-exports their items, so a path to a root item it re-exports (`crate::QueuePage`) counts as
//! the module that defines it, and a path to an item defined in the root (`crate::Result`)
//! counts as nothing.
//!
//! A cycle is reported with the modules on it and, for each step, the first place that makes
//! it: `src/bulk.rs:20 crate::sync::state_get`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::Visit;

/// Why `from` depends on `to`: the first path that names `to` in `from`'s code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    file: PathBuf,
    line: usize,
    path: String,
}

/// Modules that reach each other, and one cycle among them written with its first module
/// repeated at the end (`a → b → a`).
#[derive(Debug, PartialEq, Eq)]
struct Cycle {
    members: BTreeSet<String>,
    path: Vec<String>,
}

/// The top-level modules of a crate and who names whom.
#[derive(Debug, Default)]
struct ModuleGraph {
    modules: BTreeSet<String>,
    edges: BTreeMap<(String, String), Edge>,
}

impl ModuleGraph {
    /// Reads the crate whose root is `src/lib.rs`, following every `mod` declaration.
    fn of_crate(src: &Path) -> ModuleGraph {
        let root_file = src.join("lib.rs");
        let root = parse(&root_file);
        let mut graph = ModuleGraph::default();
        for item in &root.items {
            if let syn::Item::Mod(module) = item {
                graph.modules.insert(module.ident.to_string());
            }
        }
        let aliases = root_aliases(&root, &graph.modules);
        let mut reader = Reader {
            src,
            modules: &graph.modules,
            aliases: &aliases,
            file: root_file,
            path: Vec::new(),
            found: Vec::new(),
        };
        for item in &root.items {
            // The root's own code is the facade (declarations, re-exports, the crate's entry
            // points); only its modules are read.
            if let syn::Item::Mod(module) = item {
                reader.visit_item_mod(module);
            }
        }
        for (from, to, edge) in reader.found {
            graph.edges.entry((from, to)).or_insert(edge);
        }
        graph
    }

    fn successors<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .keys()
            .filter(move |(from, _)| from == module)
            .map(|(_, to)| to.as_str())
    }

    /// Every group of modules that reach each other (a strongly connected component of more
    /// than one module), with one shortest cycle through its first module in name order.
    fn cycles(&self) -> Vec<Cycle> {
        components(self)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| Cycle {
                path: self.shortest_cycle(&component),
                members: component,
            })
            .collect()
    }

    fn shortest_cycle(&self, component: &BTreeSet<String>) -> Vec<String> {
        let start = component.first().expect("components are never empty");
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([start.as_str()]);
        while let Some(module) = queue.pop_front() {
            for next in self.successors(module) {
                if !component.contains(next) {
                    continue;
                }
                if next == start {
                    let mut cycle = vec![start.clone()];
                    let mut at = module;
                    while at != start {
                        cycle.push(at.to_owned());
                        at = came_from[at];
                    }
                    cycle.push(start.clone());
                    cycle.reverse();
                    return cycle;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next, module);
                    queue.push_back(next);
                }
            }
        }
        unreachable!("every module of a strongly connected component lies on a cycle")
    }

    /// The cycles with the path behind each step, relative to `base`; empty when there are none.
    fn report(&self, base: &Path) -> String {
        let mut out = String::new();
        for cycle in self.cycles() {
            let members: Vec<&str> = cycle.members.iter().map(String::as_str).collect();
            writeln!(
                out,
                "modules that depend on each other: {}",
                members.join(", ")
            )
            .unwrap();
            writeln!(out, "  shortest cycle: {}", cycle.path.join(" → ")).unwrap();
            for step in cycle.path.windows(2) {
                let edge = &self.edges[&(step[0].clone(), step[1].clone())];
                let file = edge.file.strip_prefix(base).unwrap_or(&edge.file);
                writeln!(
                    out,
                    "    {} → {}: {}:{} {}",
                    step[0],
                    step[1],
                    file.display(),
                    edge.line,
                    edge.path
                )
                .unwrap();
            }
        }
        out
    }
}

/// Strongly connected components (Tarjan), each a set of module names.
fn components(graph: &ModuleGraph) -> Vec<BTreeSet<String>> {
    struct Tarjan<'a> {
        graph: &'a ModuleGraph,
        next_index: usize,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }

    impl<'a> Tarjan<'a> {
        fn visit(&mut self, module: &'a str) {
            self.index.insert(module, self.next_index);
            self.low.insert(module, self.next_index);
            self.next_index += 1;
            self.stack.push(module);
            self.on_stack.insert(module);
            for next in self.graph.successors(module) {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[module].min(self.low[next]);
                    self.low.insert(module, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[module].min(self.index[next]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut component = BTreeSet::new();
                loop {
                    let member = self.stack.pop().expect("the module itself is on the stack");
                    self.on_stack.remove(member);
                    component.insert(member.to_owned());
                    if member == module {
                        break;
                    }
                }
                self.found.push(component);
            }
        }
    }

    let mut tarjan = Tarjan {
        graph,
        next_index: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in &graph.modules {
        if !tarjan.index.contains_key(module.as_str()) {
            tarjan.visit(module);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", file.display()))
}

/// Names the crate root brings into scope from its modules (`pub use queue::QueuePage;`,
/// `use crate::db::Db;`), with the module each comes from. Children see the root's private
/// imports too, so every `use` counts.
fn root_aliases(root: &syn::File, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    for item in &root.items {
        let syn::Item::Use(item) = item else { continue };
        let mut paths = Vec::new();
        flatten_use(&item.tree, &mut Vec::new(), &mut paths);
        for (segments, name) in paths {
            let segments: Vec<&str> = segments
                .iter()
                .map(|(s, _)| s.as_str())
                .skip_while(|s| *s == "crate" || *s == "self")
                .collect();
            if let (Some(first), Some(name)) = (segments.first(), name) {
                if modules.contains(*first) {
                    aliases.insert(name, (*first).to_owned());
                }
            }
        }
    }
    aliases
}

/// Every path a use tree spells out, segment by segment with the line of each, and the name it
/// binds (`None` for a glob).
#[allow(
    clippy::type_complexity,
    reason = "one tuple per imported path: its segments and the name it binds"
)]
fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<(String, usize)>,
    out: &mut Vec<(Vec<(String, usize)>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push((path.ident.to_string(), path.ident.span().start().line));
            flatten_use(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) if name.ident == "self" => {
            let bound = prefix.last().map(|(s, _)| s.clone());
            out.push((prefix.clone(), bound));
        }
        syn::UseTree::Name(name) => {
            let mut path = prefix.clone();
            path.push((name.ident.to_string(), name.ident.span().start().line));
            out.push((path, Some(name.ident.to_string())));
        }
        syn::UseTree::Rename(rename) => {
            let mut path = prefix.clone();
            path.push((rename.ident.to_string(), rename.ident.span().start().line));
            out.push((path, Some(rename.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                flatten_use(tree, prefix, out);
            }
        }
    }
}

/// Walks one module's syntax tree (and its nested modules) and records the modules it names.
struct Reader<'a> {
    src: &'a Path,
    modules: &'a BTreeSet<String>,
    aliases: &'a BTreeMap<String, String>,
    /// The file being read.
    file: PathBuf,
    /// The module being read, from the crate root (`["sync", "tests"]`).
    path: Vec<String>,
    found: Vec<(String, String, Edge)>,
}

impl Reader<'_> {
    /// Records the dependency a path makes, if it names another top-level module.
    fn record(&mut self, segments: &[String], line: usize) {
        let Some(first) = segments.first() else {
            return;
        };
        let target: Vec<&str> = match first.as_str() {
            "crate" => segments[1..].iter().map(String::as_str).collect(),
            "self" => self
                .path
                .iter()
                .chain(&segments[1..])
                .map(String::as_str)
                .collect(),
            "super" => {
                let up = segments.iter().take_while(|s| *s == "super").count();
                let Some(keep) = self.path.len().checked_sub(up) else {
                    return;
                };
                self.path[..keep]
                    .iter()
                    .chain(&segments[up..])
                    .map(String::as_str)
                    .collect()
            }
            _ => return,
        };
        let Some(&top) = target.first() else { return };
        let to = if self.modules.contains(top) {
            top
        } else if let Some(module) = self.aliases.get(top) {
            module.as_str()
        } else {
            return;
        };
        let from = &self.path[0];
        if to != from {
            let edge = Edge {
                file: self.file.clone(),
                line,
                path: segments.join("::"),
            };
            self.found.push((from.clone(), to.to_owned(), edge));
        }
    }

    /// Paths in macro input, which syn leaves as tokens: `crate`/`super`/`self` followed by
    /// `::`-separated identifiers, at any depth of brackets.
    fn record_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(group) => {
                    self.record_tokens(group.stream());
                    i += 1;
                }
                TokenTree::Ident(ident)
                    if ident == "crate" || ident == "super" || ident == "self" =>
                {
                    let line = ident.span().start().line;
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':'
                        {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.record(&segments, line);
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Reader<'_> {
    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        self.path.push(module.ident.to_string());
        if let Some((_, items)) = &module.content {
            for item in items {
                self.visit_item(item);
            }
        } else {
            let dir = self
                .path
                .iter()
                .fold(self.src.to_path_buf(), |dir, segment| dir.join(segment));
            let flat = dir.with_extension("rs");
            let file = if flat.exists() {
                flat
            } else {
                dir.join("mod.rs")
            };
            let parsed = parse(&file);
            let outer = std::mem::replace(&mut self.file, file);
            for item in &parsed.items {
                self.visit_item(item);
            }
            self.file = outer;
        }
        self.path.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten_use(&item.tree, &mut Vec::new(), &mut paths);
        for (segments, _) in paths {
            let line = segments.first().map_or(0, |(_, line)| *line);
            let names: Vec<String> = segments.into_iter().map(|(s, _)| s).collect();
            self.record(&names, line);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = path
            .segments
            .first()
            .map_or(0, |s| s.ident.span().start().line);
        self.record(&segments, line);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.record_tokens(mac.tokens.clone());
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Fails with the cycles of the crate in `crates/<name>`, after checking the reader saw the
/// crate at all (`expected` are modules that exist and name each other).
fn assert_acyclic(name: &str, expected: &[&str]) {
    let base = workspace();
    let graph = ModuleGraph::of_crate(&base.join("crates").join(name).join("src"));
    for module in expected {
        assert!(
            graph.modules.contains(*module),
            "{name} has no module {module}: {:?}",
            graph.modules
        );
        assert!(
            graph.edges.keys().any(|(from, _)| from == module),
            "{name}: no dependency read from {module}"
        );
    }
    let report = graph.report(&base);
    assert!(report.is_empty(), "{name}:\n{report}");
}

#[test]
fn the_store_has_no_module_cycle() {
    assert_acyclic(
        "outpost-store",
        &["sync", "bulk", "queue", "search", "tickets"],
    );
}

#[test]
fn the_server_has_no_module_cycle() {
    assert_acyclic(
        "outpost-server",
        &["sync", "customer", "intake", "outbound", "db"],
    );
}

/// A crate of six modules on disk: `a → b → c → a` is a cycle made of a use group, a `super::`
/// path in an inline module and a path inside a macro call; `d` and `e` only look like parts of
/// one (paths in comments and strings, a test module's `use super::*`, a root re-export).
fn synthetic_crate(dir: &Path, c_names_a: bool) {
    let c = if c_names_a {
        "pub fn g() -> String { format!(\"{}\", crate::a::NAME) }\n"
    } else {
        "pub fn g() -> String { format!(\"{}\", 1) }\n"
    };
    let files = [
        (
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\nmod e;\npub use d::Thing;\npub struct Store;\n",
        ),
        (
            "a.rs",
            "use crate::{b::helper, Store};\npub const NAME: &str = \"a\";\npub fn f(_: Store) { helper() }\n",
        ),
        (
            "b.rs",
            "pub fn helper() { inner::call() }\nmod inner {\n    pub fn call() { super::super::c::g(); }\n}\n",
        ),
        ("c.rs", c),
        (
            "d.rs",
            "// crate::a::NAME is only mentioned here.\n/// See [`crate::b::helper`].\n\
             pub struct Thing;\npub const S: &str = \"crate::c::g\";\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::Thing as Again;\n}\n",
        ),
        ("e.rs", "pub fn make() -> crate::Thing { crate::Thing }\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn the_checker_names_the_modules_of_a_cycle_and_ignores_what_is_not_code() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_crate(dir.path(), true);
    let graph = ModuleGraph::of_crate(dir.path());

    let edges: Vec<(&str, &str)> = graph
        .edges
        .keys()
        .map(|(from, to)| (from.as_str(), to.as_str()))
        .collect();
    assert_eq!(edges, [("a", "b"), ("b", "c"), ("c", "a"), ("e", "d")]);
    let cycles = graph.cycles();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert_eq!(cycles[0].path, ["a", "b", "c", "a"]);
    assert_eq!(
        cycles[0].members,
        BTreeSet::from(["a", "b", "c"].map(String::from))
    );
    let report = graph.report(dir.path());
    assert!(
        report.contains("depend on each other: a, b, c\n"),
        "{report}"
    );
    assert!(
        report.contains("shortest cycle: a → b → c → a\n"),
        "{report}"
    );
    assert!(
        report.contains("a → b: a.rs:1 crate::b::helper"),
        "{report}"
    );
    assert!(
        report.contains("b → c: b.rs:3 super::super::c::g"),
        "{report}"
    );
    assert!(report.contains("c → a: c.rs:1 crate::a::NAME"), "{report}");

    synthetic_crate(dir.path(), false);
    let graph = ModuleGraph::of_crate(dir.path());
    assert!(graph.cycles().is_empty(), "{}", graph.report(dir.path()));
    assert_eq!(graph.edges.len(), 3);
}
