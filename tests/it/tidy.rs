//! Repository hygiene that would otherwise drift: forgotten test files, undocumented codes, missing file docs.

use std::path::Path;

use crate::support::repo_root;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.file_name().unwrap().to_str().unwrap().starts_with('.') {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_test_file_is_compiled() {
    let main = std::fs::read_to_string(repo_root().join("tests/it/main.rs")).unwrap();
    for entry in std::fs::read_dir(repo_root().join("tests/it")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_some_and(|ext| ext == "rs") && stem != "main" {
            assert!(
                main.contains(&format!("mod {stem};")),
                "tests/it/{stem}.rs is not a module of tests/it/main.rs"
            );
        }
    }
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let mut files = Vec::new();
    rust_files(&repo_root().join("crates"), &mut files);
    rust_files(&repo_root().join("tests"), &mut files);
    assert!(files.len() > 10);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("//!"), "{} does not start with a `//!` line", file.display());
    }
}

#[test]
fn every_finding_code_is_documented() {
    for doc in ["README.md", "skills/release-readiness/reference/findings.md"] {
        let text = std::fs::read_to_string(repo_root().join(doc)).unwrap();
        for code in release_gate_core::Code::ALL {
            assert!(text.contains(&format!("`{code}`")), "{doc} does not document `{code}`");
        }
    }
}

/// The tool names in the table of a document's section that starts with `heading`.
fn documented_tools(doc: &str, heading: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(doc)).unwrap();
    let start = text.find(heading).unwrap_or_else(|| panic!("{doc} has no `{heading}` section"));
    let section = &text[start + heading.len()..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let mut tools: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned())
        .collect();
    tools.sort();
    tools
}

#[test]
fn documented_mcp_tools_are_the_registered_ones() {
    let registered: Vec<String> =
        release_gate_mcp::TOOL_NAMES.iter().map(|name| (*name).to_owned()).collect();
    for (doc, heading) in
        [("README.md", "## MCP server"), ("skills/release-readiness/SKILL.md", "## MCP tools")]
    {
        assert_eq!(
            documented_tools(doc, heading),
            registered,
            "the tool table in {doc} differs from the server's tools"
        );
    }
}

/// The subcommands `release-gate --help` lists.
fn cli_commands() -> Vec<String> {
    let help = crate::support::run(&["--help"]).stdout;
    let listed = help.split("Commands:").nth(1).expect("--help lists the commands");
    let listed = listed.split("\n\n").next().unwrap_or(listed);
    listed
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_command_table_is_complete_and_well_formed() {
    let text = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = text.find("## Commands").expect("README.md has a Commands section");
    let section = &text[start..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |end| end + 1)];
    // One table: its rows are contiguous, each with exactly two cells (escaped pipes aside).
    let rows: Vec<&str> = section.lines().skip_while(|line| !line.starts_with('|')).collect();
    let table: Vec<&str> = rows.iter().take_while(|line| line.starts_with('|')).copied().collect();
    assert!(table.len() > 2, "no command table");
    assert!(
        !rows[table.len()..].iter().any(|line| line.starts_with("| `release-gate")),
        "a command row stands outside the table (after a blank line or text): it renders as literal pipes"
    );
    for row in &table {
        let cells = row.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 3, "a row of the command table is not two cells: {row}");
    }
    for command in cli_commands() {
        assert!(
            table.iter().any(|row| row.starts_with(&format!("| `release-gate {command}"))),
            "README.md's command table has no row for `release-gate {command}`"
        );
    }
}

/// `tools/list` goes to the model on every turn: a third of the 83 KB it once took is the budget.
pub const TOOLS_LIST_BUDGET: usize = 83_000 / 3;

#[test]
fn the_tool_list_fits_its_budget() {
    let root = crate::support::TempDir::new("tools-budget");
    let server = release_gate_mcp::ReleaseGateServer::new(release_gate_mcp::Root::new(root.path()).unwrap());
    let tools = server.tools();
    let size = serde_json::to_vec(&serde_json::json!({ "tools": tools })).unwrap().len();
    eprintln!("tools/list: {size} bytes for {} tools (budget {TOOLS_LIST_BUDGET})", tools.len());
    if let Some(path) = std::env::var_os("TOOLS_LIST_DUMP") {
        std::fs::write(path, serde_json::to_vec(&tools).unwrap()).unwrap();
    }
    assert!(
        size <= TOOLS_LIST_BUDGET,
        "tools/list is {size} bytes, over the {TOOLS_LIST_BUDGET}-byte budget"
    );
    // Nothing a call needs is lost: every input property keeps its type or schema and its description.
    for tool in &tools {
        let properties = tool.input_schema.get("properties").and_then(|p| p.as_object());
        for (name, property) in properties.into_iter().flatten() {
            assert!(property.get("description").is_some(), "{}.{name} lost its description", tool.name);
        }
    }
}

/// Every tool the agent-facing material names exists: a name in backticks that reads as a tool (a verb, an
/// underscore, a noun: `run_code_gates`) must be one the server registers.
#[test]
fn agent_material_names_only_real_tools() {
    const VERBS: [&str; 17] = [
        "audit", "check", "classify", "close", "decide", "declare", "draft", "list", "note", "rebind",
        "record", "render", "run", "set", "sign", "validate", "verify",
    ];
    let init = std::fs::read_to_string(repo_root().join("crates/release-gate-cli/init.rs")).unwrap();
    let agents =
        init.split("AGENTS_SECTION: &str = \"").nth(1).unwrap().split("\";").next().unwrap().to_owned();
    let documents = [
        ("SKILL.md", std::fs::read_to_string(repo_root().join("skills/release-readiness/SKILL.md")).unwrap()),
        ("the AGENTS.md section", agents),
        ("the server instructions", release_gate_mcp::INSTRUCTIONS.to_owned()),
        (
            "prompts.rs",
            std::fs::read_to_string(repo_root().join("crates/release-gate-mcp/src/prompts.rs")).unwrap(),
        ),
    ];
    for (name, text) in documents {
        assert!(text.contains("decision_status"), "{name} never points to decision_status");
        for token in text.split('`').skip(1).step_by(2) {
            let Some((verb, rest)) = token.split_once('_') else { continue };
            let tool_like = VERBS.contains(&verb)
                && !rest.is_empty()
                && token.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if tool_like {
                assert!(
                    release_gate_mcp::TOOL_NAMES.contains(&token),
                    "{name} names `{token}`, which is not a tool of the server"
                );
            }
        }
    }
}
