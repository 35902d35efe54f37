//! Risk from the diff: each changed path gets the highest risk class whose path rule matches it; the
//! release gets the highest class over all its files.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use toml::Spanned;

use crate::decision::RiskClass;
use crate::policy::{Policy, PolicyError, UnvalidatedDependencies};

/// The class a path gets when no rule matches: a behaviour change in core flows.
pub const DEFAULT_CLASS: RiskClass = RiskClass::Medium;

/// The name of the rule that applies when no pattern matches.
pub const DEFAULT_RULE: &str = "default";

/// Compiled path rules: `(class, pattern)` pairs in policy order, the patterns of test files, and the
/// dependency manifests with the packages whose change makes a release high.
#[derive(Debug, Clone)]
pub struct PathRules {
    rules: Vec<(RiskClass, String)>,
    set: GlobSet,
    tests: Vec<String>,
    tests_set: GlobSet,
    manifests: Vec<String>,
    manifests_set: GlobSet,
    /// Package names, lowercase.
    high_dependencies: Vec<String>,
}

impl PartialEq for PathRules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
            && self.tests == other.tests
            && self.manifests == other.manifests
            && self.high_dependencies == other.high_dependencies
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

/// Dependency manifests and lock files: a change to one changes what ships, so it is at least medium
/// whatever other pattern (`*.txt`, `docs/**`) it matches.
pub const DEFAULT_MANIFESTS: &[&str] = &[
    "requirements*.txt",
    "**/requirements/*.txt",
    "constraints*.txt",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "setup.py",
    "setup.cfg",
    "Cargo.toml",
    "Cargo.lock",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Gemfile.lock",
    "*.gemspec",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "gradle.lockfile",
    "libs.versions.toml",
    "composer.json",
    "composer.lock",
    "*.csproj",
    "packages.lock.json",
    "Directory.Packages.props",
    "mix.exs",
    "mix.lock",
    "Package.swift",
    "Package.resolved",
    "Podfile.lock",
];

/// Frameworks and security libraries: a dependency manifest whose changed lines name one makes the release
/// high (a framework upgrade touches every flow; a security library guards them).
pub const DEFAULT_HIGH_DEPENDENCIES: &[&str] = &[
    // Web frameworks.
    "django",
    "flask",
    "fastapi",
    "rails",
    "spring-boot",
    "spring-core",
    "express",
    "react",
    "next",
    "@angular/core",
    "vue",
    "laravel/framework",
    "symfony/symfony",
    "actix-web",
    "axum",
    // Authentication, cryptography and TLS.
    "spring-security",
    "cryptography",
    "pyjwt",
    "pyopenssl",
    "jsonwebtoken",
    "passport",
    "devise",
    "bcrypt",
    "openssl",
    "rustls",
    "ring",
    "golang.org/x/crypto",
    "golang-jwt",
    "authlib",
    "oauthlib",
];

/// Test files: they weigh at most medium, whatever area they test (`tests/test_auth.py` tests auth but
/// does not ship it).
pub const DEFAULT_TESTS: &[&str] = &[
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "**/spec/**",
    "test_*",
    "*_test.*",
    "*_tests.*",
    "*.test.*",
    "*.spec.*",
    "*Test.java",
    "*Tests.cs",
];

/// The highest class a test file gets from path rules.
pub const TESTS_CAP: RiskClass = RiskClass::Medium;

fn glob_set(patterns: &[String]) -> Result<GlobSet, PatternError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(compile(pattern)?);
    }
    builder.build().map_err(|error| PatternError { pattern: String::new(), reason: error.kind().to_string() })
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|item| (*item).to_owned()).collect()
}

/// Whether a changed line names a package: the name as a whole word, where letters, digits, `-`, `_` and
/// `.` before a letter continue a word (so `django` is not `django-filter`, and `ring` not `ring.io`).
fn names_package(line: &str, package: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    line.match_indices(package).any(|(at, _)| {
        let before = line.get(..at).and_then(|text| text.chars().next_back());
        let mut after = line.get(at + package.len()..).unwrap_or("").chars();
        let continues = match after.next() {
            None => false,
            Some('.') => after.next().is_some_and(char::is_alphanumeric),
            Some(c) => word(c),
        };
        before.is_none_or(|c| !word(c)) && !continues
    })
}

impl PathRules {
    pub fn new(rules: Vec<(RiskClass, String)>) -> Result<PathRules, PatternError> {
        PathRules::with(
            rules,
            owned(DEFAULT_TESTS),
            owned(DEFAULT_MANIFESTS),
            owned(DEFAULT_HIGH_DEPENDENCIES),
        )
    }

    /// Path rules, test patterns, dependency manifests and the packages that make a manifest change high.
    pub fn with(
        rules: Vec<(RiskClass, String)>,
        tests: Vec<String>,
        manifests: Vec<String>,
        high_dependencies: Vec<String>,
    ) -> Result<PathRules, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for (_, pattern) in &rules {
            builder.add(compile(pattern)?);
        }
        let set = builder
            .build()
            .map_err(|error| PatternError { pattern: String::new(), reason: error.kind().to_string() })?;
        let tests_set = glob_set(&tests)?;
        let manifests_set = glob_set(&manifests)?;
        let high_dependencies = high_dependencies.iter().map(|name| name.trim().to_lowercase()).collect();
        Ok(PathRules { rules, set, tests, tests_set, manifests, manifests_set, high_dependencies })
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
        PathRules {
            rules: Vec::new(),
            set: GlobSet::empty(),
            tests: Vec::new(),
            tests_set: GlobSet::empty(),
            manifests: Vec::new(),
            manifests_set: GlobSet::empty(),
            high_dependencies: Vec::new(),
        }
    }

    pub fn rules(&self) -> &[(RiskClass, String)] {
        &self.rules
    }

    pub fn tests(&self) -> &[String] {
        &self.tests
    }

    pub fn manifests(&self) -> &[String] {
        &self.manifests
    }

    pub fn high_dependencies(&self) -> &[String] {
        &self.high_dependencies
    }

    /// Whether a path is a dependency manifest or lock file.
    pub fn is_manifest(&self, path: &str) -> bool {
        self.manifests_set.is_match(path)
    }

    /// The class of one path and the rule that decided it. Among the path rules the highest matching class
    /// wins, and within it the first matching rule in policy order; a test file then weighs at most
    /// [`TESTS_CAP`]; a dependency manifest at least medium.
    pub fn classify_path(&self, path: &str, scratch: &mut Vec<usize>) -> (RiskClass, &str) {
        self.set.matches_into(path, scratch);
        let (mut class, mut rule) = scratch
            .iter()
            .filter_map(|&index| {
                self.rules.get(index).map(|(class, pattern)| (index, *class, pattern.as_str()))
            })
            .max_by_key(|&(index, class, _)| (class, std::cmp::Reverse(index)))
            .map_or((DEFAULT_CLASS, DEFAULT_RULE), |(_, class, pattern)| (class, pattern));
        if class > TESTS_CAP {
            self.tests_set.matches_into(path, scratch);
            if let Some(test) = scratch.first().and_then(|&index| self.tests.get(index)) {
                (class, rule) = (TESTS_CAP, test.as_str());
            }
        }
        if class < RiskClass::Medium {
            self.manifests_set.matches_into(path, scratch);
            if let Some(manifest) = scratch.first().and_then(|&index| self.manifests.get(index)) {
                (class, rule) = (RiskClass::Medium, manifest.as_str());
            }
        }
        (class, rule)
    }

    /// The class of one changed file, also reading what changed in it: a dependency manifest whose changed
    /// lines name a framework or security package is high (rule `dependency NAME`).
    pub fn classify_file(&self, path: &str, changed_lines: &[String], scratch: &mut Vec<usize>) -> FileClass {
        let (class, rule) = self.classify_path(path, scratch);
        if class < RiskClass::High && !changed_lines.is_empty() && self.is_manifest(path) {
            let hit = self.high_dependencies.iter().find(|package| {
                changed_lines.iter().any(|line| names_package(&line.to_lowercase(), package))
            });
            if let Some(package) = hit {
                return FileClass {
                    path: path.to_owned(),
                    class: RiskClass::High,
                    rule: format!("dependency {package}"),
                };
            }
        }
        FileClass { path: path.to_owned(), class, rule: rule.to_owned() }
    }
}

/// One changed file's class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileClass {
    pub path: String,
    pub class: RiskClass,
    /// The pattern that decided the class, `default`, or `dependency NAME` for a dependency manifest whose
    /// changed lines name a framework or security package.
    pub rule: String,
}

/// The suggested class of a diff, with the reason for each file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Classification {
    /// The highest class over all files; `null` for an empty diff.
    pub suggested: Option<RiskClass>,
    pub files: Vec<FileClass>,
    /// The base commit of the diff, when classified in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// How the base was chosen: the revision given, or `latest tag NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_from: Option<String>,
    /// The head commit of the diff, when classified in a repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

impl Classification {
    /// The files that set the suggested class (those of the highest class).
    pub fn deciding(&self) -> impl Iterator<Item = &FileClass> {
        self.files.iter().filter(move |file| Some(file.class) == self.suggested)
    }
}

/// Classifies every changed path by its path alone.
pub fn classify<S: AsRef<str>>(rules: &PathRules, paths: &[S]) -> Classification {
    classify_with(rules, paths, |_| &[])
}

/// Classifies every changed path, with the changed lines of the files `changed_lines` knows (dependency
/// manifests).
pub fn classify_with<'l, S: AsRef<str>>(
    rules: &PathRules,
    paths: &[S],
    changed_lines: impl Fn(&str) -> &'l [String],
) -> Classification {
    let mut scratch = Vec::new();
    let files: Vec<FileClass> = paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            rules.classify_file(path, changed_lines(path), &mut scratch)
        })
        .collect();
    Classification {
        suggested: files.iter().map(|file| file.class).max(),
        files,
        base: None,
        base_from: None,
        head: None,
    }
}

/// Only the suggested class, without per-file detail (no allocation per file).
pub fn suggest<S: AsRef<str>>(rules: &PathRules, paths: &[S]) -> Option<RiskClass> {
    let mut scratch = Vec::new();
    paths.iter().map(|path| rules.classify_path(path.as_ref(), &mut scratch).0).max()
}

// ---------------------------------------------------------------------------------------------
// Reading `[paths]`, `[dependencies]` and `[scopes]` from a policy file
// ---------------------------------------------------------------------------------------------

impl crate::policy::Checker<'_> {
    /// Glob patterns, each checked; `None` when any is not a glob.
    pub(crate) fn patterns(&mut self, key: &str, patterns: Vec<Spanned<String>>) -> Option<Vec<String>> {
        let mut out = Some(Vec::with_capacity(patterns.len()));
        for pattern in patterns {
            match compile(pattern.get_ref()) {
                Ok(_) => {
                    if let Some(list) = out.as_mut() {
                        list.push(pattern.into_inner());
                    }
                }
                Err(error) => {
                    self.at(&pattern, key, error.to_string());
                    out = None;
                }
            }
        }
        out
    }

    pub(crate) fn paths(
        &mut self,
        policy: &mut Policy,
        paths: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
        dependencies: Option<UnvalidatedDependencies>,
    ) {
        if paths.is_empty() && dependencies.is_none() {
            return;
        }
        let current = &policy.paths;
        let mut rules: Vec<(RiskClass, String)> = current.rules().to_vec();
        let mut tests = current.tests().to_vec();
        let mut manifests = current.manifests().to_vec();
        let mut high_dependencies = current.high_dependencies().to_vec();
        for (class, patterns) in paths {
            let key = format!("paths.{}", class.get_ref());
            if class.get_ref() == "tests" {
                if let Some(list) = self.patterns(&key, patterns) {
                    tests = list;
                }
                continue;
            }
            let Some(risk) = RiskClass::from_name(class.get_ref()).filter(|r| r.as_str() == class.get_ref())
            else {
                self.at(
                    &class,
                    key,
                    "the keys of [paths] are the risk classes `low`, `medium` and `high`, and `tests`",
                );
                continue;
            };
            if let Some(list) = self.patterns(&key, patterns) {
                // A class given in the file replaces that class's default patterns.
                rules.retain(|(existing, _)| *existing != risk);
                rules.extend(list.into_iter().map(|pattern| (risk, pattern)));
            }
        }
        if let Some(dependencies) = dependencies {
            if let Some(list) =
                dependencies.manifests.and_then(|list| self.patterns("dependencies.manifests", list))
            {
                manifests = list;
            }
            if let Some(list) = dependencies.high {
                let mut names = Vec::new();
                for name in list {
                    if name.get_ref().trim().is_empty() {
                        self.at(&name, "dependencies.high", "a package name cannot be empty");
                    } else {
                        names.push(name.into_inner());
                    }
                }
                high_dependencies = names;
            }
        }
        match PathRules::with(rules, tests, manifests, high_dependencies) {
            Ok(paths) => policy.paths = paths,
            Err(error) => self.errors.push(PolicyError {
                line: None,
                key: Some("paths".into()),
                message: error.to_string(),
            }),
        }
    }

    pub(crate) fn scope(
        &mut self,
        policy: &mut Policy,
        name: Spanned<String>,
        patterns: Vec<Spanned<String>>,
    ) {
        let key = format!("scopes.{}", name.get_ref());
        if name.get_ref().trim().is_empty() || name.get_ref().contains([',', '\n']) {
            self.at(&name, key, "a scope name is a non-empty word without commas");
            return;
        }
        if let Some(list) = self.patterns(&key, patterns) {
            policy.scopes.insert(name.into_inner().trim().to_lowercase(), list);
        }
    }
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
    fn dependency_manifests_are_at_least_medium_and_framework_changes_high() {
        let rules = PathRules::new(PathRules::protocol_default()).unwrap();
        let mut scratch = Vec::new();
        for path in ["requirements.txt", "docs/requirements.txt", "Cargo.lock", "web/package.json", "go.mod"]
        {
            assert_eq!(rules.classify_path(path, &mut scratch).0, RiskClass::Medium, "{path}");
        }
        assert_eq!(rules.classify_path("notes.txt", &mut scratch), (RiskClass::Low, "*.txt"));
        let lines = |text: &[&str]| text.iter().map(|line| (*line).to_owned()).collect::<Vec<_>>();
        let django = rules.classify_file("requirements.txt", &lines(&["Django==6.1"]), &mut scratch);
        assert_eq!((django.class, django.rule.as_str()), (RiskClass::High, "dependency django"));
        let plugin = rules.classify_file("requirements.txt", &lines(&["django-filter==24.1"]), &mut scratch);
        assert_eq!((plugin.class, plugin.rule.as_str()), (RiskClass::Medium, "requirements*.txt"));
        let json =
            rules.classify_file("package.json", &lines(&["    \"react\": \"^19.0.0\","]), &mut scratch);
        assert_eq!(json.class, RiskClass::High);
        // Only manifests are read for dependencies.
        let readme = rules.classify_file("README.md", &lines(&["Django==6.1"]), &mut scratch);
        assert_eq!(readme.class, RiskClass::Low);
    }

    #[test]
    fn tests_weigh_at_most_medium() {
        let rules = PathRules::new(PathRules::protocol_default()).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(
            rules.classify_path("tests/test_auth.py", &mut scratch),
            (RiskClass::Medium, "**/tests/**")
        );
        assert_eq!(
            rules.classify_path("app/auth/login_test.go", &mut scratch),
            (RiskClass::Medium, "*_test.*")
        );
        assert_eq!(rules.classify_path("tests/README.md", &mut scratch).0, RiskClass::Low);
        assert_eq!(rules.classify_path("app/auth/login.go", &mut scratch).0, RiskClass::High);
        // The area itself stays high.
        assert_eq!(rules.classify_path("django/contrib/auth/models.py", &mut scratch).0, RiskClass::High);
    }

    #[test]
    fn bad_pattern_is_an_error() {
        assert!(compile("src/[").is_err());
    }
}
