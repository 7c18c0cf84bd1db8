//! The command surface is generated from the one command table (src/command_table.rs), never
//! written twice: this test renders the UI's `Backend` interface and its method bodies
//! (ui/src/backend/commands.gen.ts, with ts-rs type names) and the main window's capability
//! (capabilities/main.json, an `allow-…` grant per command) and compares them with the
//! checked-in files. Regenerate both with
//! `OUTPOST_UPDATE_COMMANDS=1 cargo test -p outpost-desktop --features ts --test commands`.
//! A second test checks that every list names every command: the library's, the AppManifest's
//! (build.rs), the capability's and the TypeScript's.

#![cfg(feature = "ts")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use outpost_desktop::commands::{command_specs, CommandSpec, StartupMark, COMMAND_NAMES};
use ts_rs::TS;

const REGENERATE: &str =
    "regenerate with OUTPOST_UPDATE_COMMANDS=1 cargo test -p outpost-desktop --features ts --test commands";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

fn ts_path() -> PathBuf {
    root().join("../ui/src/backend/commands.gen.ts")
}

fn capability_path() -> PathBuf {
    root().join("capabilities/main.json")
}

/// `audit_check_export` → `auditCheckExport`.
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn permission(name: &str) -> String {
    format!("allow-{}", name.replace('_', "-"))
}

fn hint<'a>(spec: &'a CommandSpec, key: &str) -> Option<&'a str> {
    spec.hints.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// A doc comment for TypeScript, indented by `indent`.
fn jsdoc(doc: &[&str], indent: &str) -> String {
    let lines: Vec<&str> = doc.iter().map(|l| l.trim()).collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => format!("{indent}/** {one} */\n"),
        many => {
            let mut out = format!("{indent}/**\n");
            for l in many {
                out += &format!("{indent} * {l}\n");
            }
            out + &format!("{indent} */\n")
        }
    }
}

/// `null` (Rust's `()`) is `void` as a method result.
fn result_type(spec: &CommandSpec) -> &str {
    if spec.result == "null" {
        "void"
    } else {
        &spec.result
    }
}

/// The TypeScript names a type text refers to (capitalised identifiers), without built-ins.
fn referenced(ty: &str, into: &mut BTreeSet<String>) {
    for word in ty.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with(|c: char| c.is_ascii_uppercase()) && !matches!(word, "Array" | "Record")
        {
            into.insert(word.to_owned());
        }
    }
}

struct Method {
    signature: String,
    body: String,
}

fn method(spec: &CommandSpec) -> Method {
    let name = camel(spec.name);
    let optional = hint(spec, "optional");
    let result = result_type(spec).to_owned();
    let args: Vec<(String, &str, bool)> = spec
        .args
        .iter()
        .map(|(n, ty)| (camel(n), ty.as_str(), optional == Some(*n)))
        .collect();
    let (params, object) = if let Some(object) = hint(spec, "object") {
        (vec![format!("args: {object}")], "{ ...args }".to_owned())
    } else {
        let params = args
            .iter()
            .map(|(n, ty, opt)| format!("{n}{}: {ty}", if *opt { "?" } else { "" }))
            .collect();
        let keys: Vec<&str> = args.iter().map(|(n, _, _)| n.as_str()).collect();
        let object = if keys.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{ {} }}", keys.join(", "))
        };
        (params, object)
    };
    let mut params = params;
    let wire_result = if result == "void" { "null" } else { &result };
    let call = match (&spec.channel, spec.raw) {
        (None, Some(raw)) => {
            let key = camel(raw);
            params.push(format!("{key}: Uint8Array"));
            format!(
                "this.transport.raw<{wire_result}>(\"{}\", {object}, {key})",
                spec.name
            )
        }
        (channel, _) => match channel {
            Some((channel, message)) => {
                let key = camel(channel);
                let opt = optional == Some(*channel);
                params.push(format!(
                    "{key}{}: (message: {message}) => void",
                    if opt { "?" } else { "" }
                ));
                let handler = if opt {
                    format!("{key} ?? (() => {{}})")
                } else {
                    key.clone()
                };
                format!(
                "this.transport.stream<{wire_result}, {message}>(\"{}\", {object}, \"{key}\", {handler})",
                spec.name
            )
            }
            None => format!(
                "this.transport.call<{wire_result}>(\"{}\", {object})",
                spec.name
            ),
        },
    };
    let signature = format!("{name}({}): Promise<{result}>", params.join(", "));
    let body = if result == "void" {
        format!("  async {signature} {{\n    await {call};\n  }}\n")
    } else {
        format!("  {signature} {{\n    return {call};\n  }}\n")
    };
    Method { signature, body }
}

fn render_ts(specs: &[CommandSpec]) -> String {
    let cfg = ts_rs::Config::new().with_large_int("number");
    let mut local = Vec::new();
    let mut declarations = String::new();
    // Argument objects (`#[ts(object = …)]`).
    for spec in specs {
        if let Some(object) = hint(spec, "object") {
            let fields: Vec<String> = spec
                .args
                .iter()
                .map(|(n, ty)| format!("  {}: {ty};\n", camel(n)))
                .collect();
            declarations += &format!(
                "/** The arguments of `{}`. */\nexport type {object} = {{\n{}}};\n\n",
                camel(spec.name),
                fields.concat()
            );
            local.push(object.to_owned());
        }
    }
    // The shell's own argument types.
    declarations += &format!("export {}\n\n", StartupMark::decl(&cfg));
    local.push(StartupMark::ident(&cfg));

    let mut imports = BTreeSet::new();
    for spec in specs {
        for (_, ty) in &spec.args {
            referenced(ty, &mut imports);
        }
        if let Some((_, message)) = &spec.channel {
            referenced(message, &mut imports);
        }
        referenced(&spec.result, &mut imports);
    }
    for name in &local {
        imports.remove(name);
    }
    let types_dir = root().join("../ui/src/backend/types");
    for name in &imports {
        assert!(
            types_dir.join(format!("{name}.ts")).is_file(),
            "{name} is not among the generated DTOs in ui/src/backend/types \
             (crates/outpost-client/tests/ts_types.rs renders them)"
        );
    }

    let mut out = String::new();
    out += "// Generated from the command table (src-tauri/src/command_table.rs) by\n";
    out += "// src-tauri/tests/commands.rs; do not edit. To change a command, change its entry in the\n";
    out += &format!("// table, then {REGENERATE}\n\n");
    out += &format!(
        "import type {{ {} }} from \"./types\";\n\n",
        imports.into_iter().collect::<Vec<_>>().join(", ")
    );
    out += &declarations;
    out += "/** Every command, in table order. */\nexport const COMMANDS = [\n";
    for spec in specs {
        out += &format!("  \"{}\",\n", spec.name);
    }
    out += "] as const;\n\nexport type CommandName = (typeof COMMANDS)[number];\n\n";
    out += "/** How a backend reaches the commands: Tauri's IPC, or the development bridge over HTTP. */\n";
    out += "export interface Transport {\n";
    out += "  /** Runs a command with its arguments (camelCase keys); rejects with a BackendError. */\n";
    out += "  call<T>(command: CommandName, args: Record<string, unknown>): Promise<T>;\n";
    out += "  /** Runs a command that sends messages on its channel argument `channel` to `onMessage`. */\n";
    out += "  stream<T, M>(\n    command: CommandName,\n    args: Record<string, unknown>,\n    channel: string,\n    onMessage: (message: M) => void,\n  ): Promise<T>;\n";
    out += "  /**\n   * Runs a command whose body is raw bytes (a file); its other arguments travel as\n   * `x-outpost-<kebab-name>` headers, percent-encoded.\n   */\n";
    out += "  raw<T>(command: CommandName, args: Record<string, string>, body: Uint8Array): Promise<T>;\n";
    out += "}\n\n";
    let methods: Vec<Method> = specs.iter().map(method).collect();
    out += "/** The desktop's commands, as the UI calls them. */\nexport interface Backend {\n";
    for (spec, m) in specs.iter().zip(&methods) {
        out += &jsdoc(&spec.doc, "  ");
        out += &format!("  {};\n", m.signature);
    }
    out += "}\n\n";
    out += "/** The Backend over a Transport: each method is its command with the arguments by name. */\n";
    out += "export class CommandBackend implements Backend {\n";
    out += "  private readonly transport: Transport;\n\n";
    out += "  constructor(transport: Transport) {\n    this.transport = transport;\n  }\n";
    for m in &methods {
        out += "\n";
        out += &m.body;
    }
    out += "}\n";
    out
}

fn render_capability(specs: &[CommandSpec]) -> String {
    let permissions: Vec<String> = specs
        .iter()
        .map(|s| format!("    \"{}\"", permission(s.name)))
        .collect();
    format!(
        r#"{{
  "$schema": "../gen/schemas/desktop-schema.json",
  "identifier": "main",
  "description": "The agent workspace window: the app's own commands and nothing else (no file system, shell, HTTP or opener access; notifications, window state and logs are sent from Rust). Generated from src/command_table.rs by tests/commands.rs; do not edit.",
  "windows": [
    "main"
  ],
  "permissions": [
{}
  ]
}}
"#,
        permissions.join(",\n")
    )
}

#[test]
fn the_checked_in_command_surface_matches_the_table() {
    let specs = command_specs();
    let generated = [
        (ts_path(), render_ts(&specs)),
        (capability_path(), render_capability(&specs)),
    ];
    if std::env::var_os("OUTPOST_UPDATE_COMMANDS").is_some() {
        for (path, text) in &generated {
            std::fs::write(path, text).unwrap();
        }
    }
    let stale: Vec<_> = generated
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_ref() != Some(text))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(stale.is_empty(), "stale: {stale:?}; {REGENERATE}");
}

#[test]
fn every_list_names_every_command() {
    let table: Vec<&str> = COMMAND_NAMES.to_vec();
    let unique: BTreeSet<&str> = table.iter().copied().collect();
    assert_eq!(unique.len(), table.len(), "a command is declared twice");
    // The AppManifest (build.rs reads the table on its own).
    let manifest: Vec<&str> = env!("OUTPOST_MANIFEST_COMMANDS").split(',').collect();
    assert_eq!(manifest, table, "the AppManifest's commands");
    // The TypeScript reader.
    let specs: Vec<&str> = command_specs().iter().map(|s| s.name).collect();
    assert_eq!(specs, table, "the TypeScript generator's commands");
    // The capability grants each command, and nothing else.
    let capability: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(capability_path()).unwrap()).unwrap();
    let granted: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("a permissions list")
        .iter()
        .map(|p| p.as_str().expect("a permission name"))
        .collect();
    let expected: Vec<String> = table.iter().map(|n| permission(n)).collect();
    assert_eq!(granted, expected, "capabilities/main.json; {REGENERATE}");
    // The checked-in TypeScript lists each command and has a method calling it.
    let ts = std::fs::read_to_string(ts_path()).unwrap();
    let listed = ts
        .split_once("export const COMMANDS = [")
        .and_then(|(_, rest)| rest.split_once("] as const;"))
        .map(|(list, _)| list)
        .expect("a COMMANDS list in commands.gen.ts");
    let listed: Vec<&str> = listed
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(listed, table, "commands.gen.ts; {REGENERATE}");
    for name in &table {
        let call = format!("(\"{name}\", ");
        assert_eq!(
            ts.matches(&call).count(),
            1,
            "commands.gen.ts calls `{name}` once; {REGENERATE}"
        );
        assert!(
            ts.contains(&format!("  {}(", camel(name))),
            "commands.gen.ts has no method for `{name}`; {REGENERATE}"
        );
    }
}

/// The TypeScript follows the shell's contract: camelCase keys, channels, `void` results.
#[test]
fn the_typescript_keeps_the_shapes_the_ui_calls() {
    let ts = render_ts(&command_specs());
    assert!(ts.contains("signIn(args: SignInArgs): Promise<Me>"));
    assert!(ts.contains("totp: string | null;"));
    assert!(ts.contains("reply(ticketId: string, text: string): Promise<LocalChange>"));
    assert!(ts.contains("\"reply\", { ticketId, text }"));
    assert!(ts.contains("signOut(discardUnsent: boolean): Promise<void>"));
    assert!(ts.contains(
        "auditVerify(onProgress?: (message: VerifyProgress) => void): Promise<ChainCheck>"
    ));
    assert!(ts.contains("subscribe(onEvent: (message: DeskEvent) => void): Promise<void>"));
    assert!(ts.contains(
        "queue(filter: QueueFilter, sort: QueueSort, cursor: QueueCursor | null, limit: number): Promise<QueuePage>"
    ));
    assert!(ts.contains("statusMachine(): Promise<Array<[Status, Array<Status>]>>"));
    assert!(ts.contains("export type StartupMark = \"signin-ready\" | \"queue-ready\";"));
    assert!(ts.contains("ticketKeys(ids: Array<string>): Promise<Array<[string, string]>>"));
}

#[test]
fn camel_case_matches_tauri() {
    assert_eq!(camel("audit_check_export"), "auditCheckExport");
    assert_eq!(camel("queue"), "queue");
    assert_eq!(permission("audit_check_export"), "allow-audit-check-export");
}
