//! The release note: the communication package as Markdown, ready to post; and the pre-filled "what
//! changed" (the changelog's section for the release, else the commit subjects grouped and deduplicated).

use crate::decision::Decision;
use crate::value;
use crate::value::short_commit;

/// Facts about the release the record alone does not hold, gathered by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoteFacts {
    /// The version being released (a tag on the head), if known.
    pub version: Option<String>,
}

/// Renders the communication package and the decision's essentials as a release note.
pub fn release_note(decision: &Decision) -> String {
    release_note_with(decision, &NoteFacts::default())
}

/// The release note, with what the caller knows about the version.
pub fn release_note_with(decision: &Decision, facts: &NoteFacts) -> String {
    let scope =
        value::meaningful(decision.scope.as_deref()).unwrap_or("(scope not named)").replace('\n', ", ");
    let mut out = format!("## Release: {scope}\n\n");
    let fact = |label: &str, value: Option<&str>| {
        format!("- **{label}:** {}\n", value::meaningful(value).unwrap_or("not recorded").replace('\n', "; "))
    };
    let commit = decision.binding.as_ref().map(|binding| {
        format!("{} ({}..{})", binding.repository, short_commit(&binding.base), short_commit(&binding.head))
    });
    match (&facts.version, &commit) {
        (Some(version), Some(commit)) => {
            out.push_str(&fact("Version", Some(&format!("{version}, {commit}"))))
        }
        (Some(version), None) => out.push_str(&fact("Version", Some(version))),
        (None, Some(commit)) => out.push_str(&fact("Commit", Some(commit))),
        (None, None) => {}
    }
    out.push_str(&fact("Risk class", decision.risk_class.as_deref()));
    // The decision as it stands: a draft says so, and nobody is "Decided by" before the call is made.
    match decision.call().valid() {
        Some(call) => {
            out.push_str(&fact("Decision", Some(call.as_str())));
            out.push_str(&fact("Decided by", decision.decision_owner.as_deref()));
            out.push_str(&fact("Decided at", decision.decided_at.as_deref()));
        }
        None => {
            out.push_str("- **Decision:** not made yet (draft)\n");
            if let Some(owner) = value::meaningful(decision.decision_owner.as_deref()) {
                out.push_str(&fact("Decision owner", Some(owner)));
            }
        }
    }
    out.push_str(&fact("Rollback owner", decision.rollback_owner.as_deref()));
    if let Some(operations) = &decision.operations {
        for (label, value) in operations.fields() {
            if let Some(value) = value::meaningful(value) {
                out.push_str(&fact(&capitalized(label), Some(value)));
            }
        }
    }
    let package = decision.communication.clone().unwrap_or_default();
    let section = |out: &mut String, title: &str, value: Option<&str>| {
        out.push_str(&format!("\n### {title}\n\n"));
        match value::meaningful(value) {
            Some(text) => {
                for line in text.lines() {
                    let line = line.trim_start_matches(['-', '*', ' ']);
                    out.push_str(&format!("- {line}\n"));
                }
            }
            None => out.push_str("_Not prepared._\n"),
        }
    };
    section(&mut out, "What changed", package.what_changed.as_deref());
    section(&mut out, "Known limitations", package.known_limitations.as_deref());
    section(&mut out, "Monitoring focus (first 30-60 minutes)", package.monitoring_focus.as_deref());
    let conditions = package
        .rollback_trigger_conditions
        .clone()
        .or_else(|| (!decision.rollback_trigger.is_empty()).then(|| decision.rollback_trigger.join("\n")));
    section(&mut out, "Rollback trigger conditions", conditions.as_deref());
    section(&mut out, "Escalation", package.escalation.as_deref());
    out
}

fn capitalized(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// How many items of one group "what changed" lists before it counts the rest.
const GROUP_ITEMS: usize = 8;

/// How many lines of a changelog section "what changed" keeps.
const SECTION_LINES: usize = 60;

/// The section of a changelog for a release: the one whose heading names `version` (with or without a
/// leading `v`); without a version, the newest section unless it is the base's (`Unreleased`, or a version
/// above the base's). Its lines, list markers removed, at most [`SECTION_LINES`].
pub fn changelog_section(
    changelog: &str,
    version: Option<&str>,
    base_version: Option<&str>,
) -> Option<String> {
    let bare = |v: &str| v.trim().trim_start_matches(['v', 'V']).to_owned();
    let names = |heading: &str, v: &str| {
        let v = bare(v);
        !v.is_empty()
            && heading
                .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
                .any(|word| bare(word) == v)
    };
    let headings: Vec<(usize, usize, &str)> = changelog
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let level = line.chars().take_while(|c| *c == '#').count();
            (level > 0 && line.chars().nth(level) == Some(' '))
                .then(|| (index, level, line.get(level..).unwrap_or("").trim()))
        })
        .collect();
    let candidates =
        headings.iter().filter(|(_, level, _)| *level > 1 || headings.iter().all(|(_, l, _)| *l == 1));
    let chosen = match version {
        Some(version) => candidates.clone().find(|(_, _, heading)| names(heading, version)),
        None => None,
    };
    let chosen = chosen.or_else(|| {
        let newest = candidates.clone().find(|(_, _, heading)| {
            heading.chars().any(|c| c.is_ascii_digit()) || heading.to_lowercase().contains("unreleased")
        })?;
        match base_version {
            Some(base) if names(newest.2, base) => None,
            _ => Some(newest),
        }
    })?;
    let (start, level, _) = *chosen;
    let lines: Vec<&str> = changelog
        .lines()
        .skip(start + 1)
        .take_while(|line| {
            let depth = line.chars().take_while(|c| *c == '#').count();
            depth == 0 || depth > level
        })
        .map(|line| line.trim().trim_start_matches(['-', '*', '+']).trim())
        .filter(|line| !line.is_empty())
        .take(SECTION_LINES)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Commit subjects as "what changed": noise (merges, fixups, version bumps, WIP) dropped, duplicates removed,
/// grouped by kind (features, fixes, dependencies, documentation, tests, other), one line per group with at
/// most [`GROUP_ITEMS`] items and a count of the rest.
pub fn summarize_subjects(subjects: &[String]) -> Option<String> {
    const GROUPS: [&str; 7] =
        ["Features", "Fixes", "Security", "Dependencies", "Documentation", "Tests", "Other"];
    let mut grouped: Vec<Vec<String>> = vec![Vec::new(); GROUPS.len()];
    let mut seen = std::collections::HashSet::new();
    for subject in subjects {
        let subject = value::tidy_line(subject);
        let lower = subject.to_lowercase();
        let noise = subject.is_empty()
            || [
                "merge pull request",
                "merge branch",
                "merge remote-tracking",
                "fixup!",
                "squash!",
                "wip",
                "bump version",
                "release v",
                "revert \"revert",
            ]
            .iter()
            .any(|prefix| lower.starts_with(prefix));
        if noise {
            continue;
        }
        // `feat(api): add x` -> kind `feat`, text `add x`.
        let (kind, text) = match subject.split_once(':') {
            Some((head, rest)) if head.len() <= 20 && !head.contains(' ') && !rest.trim().is_empty() => (
                head.split('(').next().unwrap_or(head).trim_end_matches('!').to_lowercase(),
                rest.trim().to_owned(),
            ),
            _ => (lower.split_whitespace().next().unwrap_or("").to_owned(), subject.clone()),
        };
        if !seen.insert(text.to_lowercase()) {
            continue;
        }
        let group = match kind.as_str() {
            "feat" | "feature" | "add" | "added" | "adds" | "new" => 0,
            "fix" | "fixed" | "fixes" | "bugfix" | "hotfix" => 1,
            "security" | "sec" => 2,
            "deps" | "dep" | "bump" | "bumped" | "upgrade" | "upgraded" | "build(deps)" => 3,
            "docs" | "doc" | "documentation" => 4,
            "test" | "tests" => 5,
            _ => 6,
        };
        if let Some(list) = grouped.get_mut(group) {
            list.push(text);
        }
    }
    // One kind of change only: the items themselves, one per line, no group to name.
    let mut nonempty = grouped.iter().filter(|items| !items.is_empty());
    if let (Some(items), None) = (nonempty.next(), nonempty.next()) {
        let mut lines: Vec<String> = items.iter().take(2 * GROUP_ITEMS).cloned().collect();
        if items.len() > 2 * GROUP_ITEMS {
            lines.push(format!("and {} more", items.len() - 2 * GROUP_ITEMS));
        }
        return Some(lines.join("\n"));
    }
    let lines: Vec<String> = GROUPS
        .iter()
        .zip(&grouped)
        .filter(|(_, items)| !items.is_empty())
        .map(|(name, items)| {
            let shown: Vec<&str> = items.iter().take(GROUP_ITEMS).map(String::as_str).collect();
            let more = match items.len().saturating_sub(GROUP_ITEMS) {
                0 => String::new(),
                count => format!("; and {count} more"),
            };
            format!("{name} ({}): {}{more}", items.len(), shown.join("; "))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Communication;

    #[test]
    fn note_lists_the_package_and_says_what_is_missing() {
        let decision = Decision {
            scope: Some("billing-api".into()),
            risk_class: Some("high".into()),
            rollback_trigger: vec!["error rate > 2% for 5 minutes".into()],
            communication: Some(Communication {
                what_changed: Some("rounding fix\nnew invoice PDF".into()),
                escalation: Some("#billing-oncall, Dana".into()),
                ..Communication::default()
            }),
            ..Decision::default()
        };
        let note = release_note(&decision);
        assert!(note.starts_with("## Release: billing-api\n"));
        assert!(note.contains("### What changed\n\n- rounding fix\n- new invoice PDF\n"));
        assert!(note.contains("### Known limitations\n\n_Not prepared._\n"));
        assert!(note.contains("### Rollback trigger conditions\n\n- error rate > 2% for 5 minutes\n"));
        assert!(note.contains("- **Decision:** not made yet (draft)\n"));
        assert!(!note.contains("Decided by"), "{note}");
    }

    #[test]
    fn a_decided_note_names_the_version_the_owner_and_the_operations() {
        let decision = Decision {
            scope: Some("billing-api".into()),
            decision: Some("GO".into()),
            decision_owner: Some("Priya Shah".into()),
            decided_at: Some("2026-11-27T14:05:00Z".into()),
            operations: Some(crate::decision::Operations {
                on_call: Some("Dana Ruiz".into()),
                ..Default::default()
            }),
            ..Decision::default()
        };
        let note = release_note_with(&decision, &NoteFacts { version: Some("v1.5.0".into()) });
        assert!(note.contains("- **Version:** v1.5.0\n"), "{note}");
        assert!(note.contains("- **Decided by:** Priya Shah\n"), "{note}");
        assert!(note.contains("- **On-call owner:** Dana Ruiz\n"), "{note}");
    }

    #[test]
    fn subjects_are_grouped_deduplicated_and_bounded() {
        let subjects: Vec<String> = [
            "Merge pull request #1 from x/y",
            "feat(api): add invoice export",
            "fix: rounding of totals",
            "fix: rounding of totals",
            "Fixed #35000 -- Made the admin faster.",
            "fixup! feat(api): add invoice export",
            "docs: explain exports",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let text = summarize_subjects(&subjects).unwrap();
        assert_eq!(
            text,
            "Features (1): add invoice export\nFixes (2): rounding of totals; Fixed #35000 -- Made the admin faster.\nDocumentation (1): explain exports"
        );
        let many: Vec<String> = (0..30).map(|n| format!("Refactor part {n}")).collect();
        let text = summarize_subjects(&many).unwrap();
        assert!(text.starts_with("Refactor part 0\nRefactor part 1\n"), "{text}");
        assert!(text.ends_with("\nand 14 more"), "{text}");
        let mut mixed = many.clone();
        mixed.push("fix: a crash".into());
        let text = summarize_subjects(&mixed).unwrap();
        assert!(text.starts_with("Fixes (1): a crash\nOther (30): Refactor part 0; "), "{text}");
        assert!(text.ends_with("; and 22 more"), "{text}");
    }

    #[test]
    fn changelog_section_for_the_release() {
        let changelog = "# Changelog\n\n## Unreleased\n\n- Upgrade to Django 6.1\n- New export\n\n## 1.4.0 - 2026-10-01\n\n- Old thing\n";
        assert_eq!(
            changelog_section(changelog, None, Some("v1.4.0")).as_deref(),
            Some("Upgrade to Django 6.1\nNew export")
        );
        assert_eq!(changelog_section(changelog, Some("v1.4.0"), None).as_deref(), Some("Old thing"));
        let released = "## 1.4.0\n- Old thing\n";
        assert_eq!(changelog_section(released, None, Some("1.4.0")), None);
        assert_eq!(changelog_section("no headings", None, None), None);
    }
}
