//! Risk from the diff: each changed path gets the highest risk class whose path rule matches it; the
//! release gets the highest class over all its files.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::decision::RiskClass;

/// The class a path gets when no rule matches: a behaviour change in core flows.
pub const DEFAULT_CLASS: RiskClass = RiskClass::Medium;

/// The name of the rule that applies when no pattern matches.
pub const DEFAULT_RULE: &str = "default";

/// Compiled path rules: `(class, pattern)` pairs in policy order.
#[derive(Debug, Clone)]
pub struct PathRules {
    rules: Vec<(RiskClass, String)>,
    set: GlobSet,
}

impl PartialEq for PathRules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

impl Eq for PathRules {}

/// Why a glob pattern could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{pattern}` is not a valid glob: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// Compiles one pattern. A pattern without a `/` matches a file name at any depth, as in `.gitignore`;
/// `*` never crosses a `/`, `**` does. Matching ignores case, so `src/Auth/` is an auth path too.
pub fn compile(pattern: &str) -> Result<Glob, PatternError> {
    let anchored = if pattern.contains('/') { pattern.to_owned() } else { format!("**/{pattern}") };
    GlobBuilder::new(&anchored)
        .literal_separator(true)
        .case_insensitive(true)
        .build()
        .map_err(|error| PatternError { pattern: pattern.to_owned(), reason: error.kind().to_string() })
}

/// A set of compiled patterns, for release scopes.
pub fn compile_set(patterns: &[String]) -> Result<GlobSet, PatternError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(compile(pattern)?);
    }
    builder
        .build()
        .map_err(|error| PatternError { pattern: patterns.join(", "), reason: error.kind().to_string() })
}

impl PathRules {
    pub fn new(rules: Vec<(RiskClass, String)>) -> Result<PathRules, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for (_, pattern) in &rules {
            builder.add(compile(pattern)?);
        }
        let set = builder
            .build()
            .map_err(|error| PatternError { pattern: String::new(), reason: error.kind().to_string() })?;
        Ok(PathRules { rules, set })
    }

    /// The protocol's examples: auth, billing, permission and migration paths are high; docs and copy
    /// are low; anything else is medium.
    pub fn protocol_default() -> Vec<(RiskClass, String)> {
        let high = ["*auth*", "*billing*", "*permission*", "*migration*"]
            .into_iter()
            .flat_map(|word| [format!("**/{word}/**"), word.to_owned()]);
        let low = ["*.md", "*.txt", "*.rst", "docs/**"].into_iter().map(str::to_owned);
        high.map(|p| (RiskClass::High, p)).chain(low.map(|p| (RiskClass::Low, p))).collect()
    }

    /// No rules: every path gets the default class.
    pub fn empty() -> PathRules {
        PathRules { rules: Vec::new(), set: GlobSet::empty() }
    }

    pub fn rules(&self) -> &[(RiskClass, String)] {
        &self.rules
    }

    /// The class of one path and the rule that decided it: the highest matching class, and within
    /// it the first matching rule in policy order.
    pub fn classify_path(&self, path: &str, scratch: &mut Vec<usize>) -> (RiskClass, &str) {
        self.set.matches_into(path, scratch);
        scratch
            .iter()
            .filter_map(|&index| {
                self.rules.get(index).map(|(class, pattern)| (index, *class, pattern.as_str()))
            })
            .max_by_key(|&(index, class, _)| (class, std::cmp::Reverse(index)))
            .map_or((DEFAULT_CLASS, DEFAULT_RULE), |(_, class, pattern)| (class, pattern))
    }
}

/// One changed file's class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileClass {
    pub path: String,
    pub class: RiskClass,
    /// The pattern that decided the class, or `default`.
    pub rule: String,
}

/// The suggested class of a diff, with the reason for each file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Classification {
    /// The highest class over all files; `null` for an empty diff.
    pub suggested: Option<RiskClass>,
    pub files: Vec<FileClass>,
}

/// Classifies every changed path.
pub fn classify<S: AsRef<str>>(rules: &PathRules, paths: &[S]) -> Classification {
    let mut scratch = Vec::new();
    let files: Vec<FileClass> = paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            let (class, rule) = rules.classify_path(path, &mut scratch);
            FileClass { path: path.to_owned(), class, rule: rule.to_owned() }
        })
        .collect();
    Classification { suggested: files.iter().map(|file| file.class).max(), files }
}

/// Only the suggested class, without per-file detail (no allocation per file).
pub fn suggest<S: AsRef<str>>(rules: &PathRules, paths: &[S]) -> Option<RiskClass> {
    let mut scratch = Vec::new();
    paths.iter().map(|path| rules.classify_path(path.as_ref(), &mut scratch).0).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules() {
        let rules = PathRules::new(PathRules::protocol_default()).unwrap();
        let mut scratch = Vec::new();
        let mut check = |path: &str, class: RiskClass, rule: &str| {
            assert_eq!(rules.classify_path(path, &mut scratch), (class, rule), "{path}");
        };
        check("src/auth/login.rs", RiskClass::High, "**/*auth*/**");
        check("services/oauth2/token.go", RiskClass::High, "**/*auth*/**");
        check("src/billing.rs", RiskClass::High, "*billing*");
        check("db/migrations/0042_add_col.sql", RiskClass::High, "**/*migration*/**");
        check("app/permissions.py", RiskClass::High, "*permission*");
        check("README.md", RiskClass::Low, "*.md");
        check("docs/guide/index.html", RiskClass::Low, "docs/**");
        check("docs/billing.md", RiskClass::High, "*billing*");
        check("src/search/query.rs", RiskClass::Medium, "default");
        check("notes.txt", RiskClass::Low, "*.txt");
        check("src/Auth/Login.rs", RiskClass::High, "**/*auth*/**");
        check("db/Migrations/001.sql", RiskClass::High, "**/*migration*/**");
        check("BILLING.rs", RiskClass::High, "*billing*");
        check("docs/GUIDE.MD", RiskClass::Low, "*.md");
    }

    #[test]
    fn highest_class_wins() {
        let rules = PathRules::new(PathRules::protocol_default()).unwrap();
        let result = classify(&rules, &["README.md", "src/lib.rs"]);
        assert_eq!(result.suggested, Some(RiskClass::Medium));
        assert_eq!(classify(&rules, &["README.md"]).suggested, Some(RiskClass::Low));
        assert_eq!(classify::<&str>(&rules, &[]).suggested, None);
        assert_eq!(suggest(&rules, &["a.md", "src/auth/x.rs", "b.rs"]), Some(RiskClass::High));
    }

    #[test]
    fn bad_pattern_is_an_error() {
        assert!(compile("src/[").is_err());
    }
}
