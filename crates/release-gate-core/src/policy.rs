//! The risk policy: the protocol's risk-class matrix as data, and the `.release/policy.toml` that overrides it.
//!
//! A policy file is parsed into [`UnvalidatedPolicy`] (every key optional, spans kept), then validated
//! into [`Policy`], whose invariants hold by construction. Errors name the key and the line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::decision::{Layer, RiskClass};
use crate::finding::{Code, Severity};

/// How strongly a risk class asks for an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// Missing it is an error.
    Required,
    /// Missing it is a warning.
    Recommended,
    /// Missing it is not reported.
    Optional,
}

impl Requirement {
    /// The severity of a finding about the artifact being missing, if any.
    pub fn severity(self) -> Option<Severity> {
        match self {
            Requirement::Required => Some(Severity::Error),
            Requirement::Recommended => Some(Severity::Warning),
            Requirement::Optional => None,
        }
    }

    fn parse(name: &str) -> Option<Requirement> {
        match name {
            "required" => Some(Requirement::Required),
            "recommended" => Some(Requirement::Recommended),
            "optional" => Some(Requirement::Optional),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Required => "required",
            Requirement::Recommended => "recommended",
            Requirement::Optional => "optional",
        }
    }
}

/// What one risk class requires before a GO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ClassRules {
    /// Gate layers that must be evaluated (n/a is not allowed) and pass for a GO.
    pub gates: BTreeSet<Layer>,
    pub rollback_owner: Requirement,
    pub rehearsal: Requirement,
    pub drill: Requirement,
    pub communication: Requirement,
    /// Minimum number of distinct names on the go/no-go panel for a GO (0: no panel needed).
    pub panel: u32,
    /// Minimum number of distinct panel members whose signatures a signed GO needs (`release-gate verify`).
    pub signatures: u32,
}

/// A validated policy. Build it with [`Policy::default`] or [`Policy::from_toml`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Policy {
    low: ClassRules,
    medium: ClassRules,
    high: ClassRules,
    /// Severity overrides by finding code; `None` turns the finding off.
    findings: BTreeMap<String, Option<Severity>>,
}

impl Default for Policy {
    /// The protocol's risk-class matrix: low needs code + review; medium adds a rollback owner; high needs all
    /// five layers, a rehearsal, a drill and a panel of two.
    fn default() -> Self {
        use Requirement::*;
        Policy {
            low: ClassRules {
                gates: BTreeSet::from([Layer::Code, Layer::Review]),
                rollback_owner: Recommended,
                rehearsal: Optional,
                drill: Optional,
                communication: Recommended,
                panel: 0,
                signatures: 0,
            },
            medium: ClassRules {
                gates: BTreeSet::from([Layer::Code, Layer::Review]),
                rollback_owner: Required,
                rehearsal: Recommended,
                drill: Optional,
                communication: Recommended,
                panel: 0,
                signatures: 0,
            },
            high: ClassRules {
                gates: Layer::ALL.into_iter().collect(),
                rollback_owner: Required,
                rehearsal: Required,
                drill: Required,
                communication: Required,
                panel: 2,
                signatures: 2,
            },
            findings: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// The rules of one risk class.
    pub fn class(&self, class: RiskClass) -> &ClassRules {
        match class {
            RiskClass::Low => &self.low,
            RiskClass::Medium => &self.medium,
            RiskClass::High => &self.high,
        }
    }

    fn class_mut(&mut self, class: RiskClass) -> &mut ClassRules {
        match class {
            RiskClass::Low => &mut self.low,
            RiskClass::Medium => &mut self.medium,
            RiskClass::High => &mut self.high,
        }
    }

    /// The severity a finding gets under this policy: the rule's own, unless the policy overrides it.
    /// `None` means the policy turned the finding off.
    pub fn severity(&self, code: Code, rule_severity: Severity) -> Option<Severity> {
        match self.findings.get(code.as_str()) {
            Some(overridden) => *overridden,
            None => Some(rule_severity),
        }
    }

    /// Parses and validates a policy file; keys it does not set keep their defaults.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let unvalidated: UnvalidatedPolicy =
            toml::from_str(text).map_err(|error| PolicyError::from_toml(&error, text))?;
        unvalidated.validate(text)
    }
}

/// A policy file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    /// The dotted key, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

impl PolicyError {
    fn from_toml(error: &toml::de::Error, text: &str) -> PolicyError {
        PolicyError {
            line: error.span().map(|span| line_of(text, span.start)),
            key: None,
            message: error.message().trim().to_owned(),
        }
    }

    fn at<T>(text: &str, spanned: &Spanned<T>, key: String, message: String) -> PolicyError {
        PolicyError { line: Some(line_of(text, spanned.span().start)), key: Some(key), message }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).bytes().filter(|b| *b == b'\n').count() + 1
}

/// The policy file as written: every key optional, with spans for error messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedPolicy {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    classes: BTreeMap<Spanned<String>, UnvalidatedClass>,
    #[serde(default)]
    findings: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnvalidatedClass {
    gates: Option<Vec<Spanned<String>>>,
    rollback_owner: Option<Spanned<String>>,
    rehearsal: Option<Spanned<String>>,
    drill: Option<Spanned<String>>,
    communication: Option<Spanned<String>>,
    panel: Option<Spanned<i64>>,
    signatures: Option<Spanned<i64>>,
}

/// The policy file format this release-gate reads.
pub const POLICY_VERSION: i64 = 1;

impl UnvalidatedPolicy {
    /// Checks every value and applies it over the defaults.
    pub fn validate(self, text: &str) -> Result<Policy, PolicyError> {
        if let Some(version) = &self.version
            && *version.get_ref() != POLICY_VERSION
        {
            return Err(PolicyError::at(
                text,
                version,
                "version".into(),
                format!("this release-gate reads policy version {POLICY_VERSION}, not {}", version.get_ref()),
            ));
        }
        let mut policy = Policy::default();
        for (name, class) in self.classes {
            let key = format!("classes.{}", name.get_ref());
            let Some(risk) = RiskClass::from_name(name.get_ref()).filter(|r| r.as_str() == name.get_ref())
            else {
                return Err(PolicyError::at(
                    text,
                    &name,
                    key,
                    "risk classes are `low`, `medium` and `high`".into(),
                ));
            };
            let rules = policy.class_mut(risk);
            if let Some(gates) = class.gates {
                let mut set = BTreeSet::new();
                for gate in gates {
                    let layer = Layer::from_name(gate.get_ref()).filter(|l| l.as_str() == gate.get_ref());
                    let Some(layer) = layer else {
                        return Err(PolicyError::at(
                            text,
                            &gate,
                            format!("{key}.gates"),
                            format!(
                                "unknown gate layer `{}`; layers are code, review, operational, communication, decision",
                                gate.get_ref()
                            ),
                        ));
                    };
                    set.insert(layer);
                }
                rules.gates = set;
            }
            for (field, value, slot) in [
                ("rollback_owner", class.rollback_owner, &mut rules.rollback_owner),
                ("rehearsal", class.rehearsal, &mut rules.rehearsal),
                ("drill", class.drill, &mut rules.drill),
                ("communication", class.communication, &mut rules.communication),
            ] {
                let Some(value) = value else { continue };
                *slot = Requirement::parse(value.get_ref()).ok_or_else(|| {
                    PolicyError::at(
                        text,
                        &value,
                        format!("{key}.{field}"),
                        format!("`{}` is not one of `required`, `recommended`, `optional`", value.get_ref()),
                    )
                })?;
            }
            if let Some(signatures) = class.signatures {
                rules.signatures =
                    u32::try_from(*signatures.get_ref()).ok().filter(|n| *n <= 100).ok_or_else(|| {
                        PolicyError::at(
                            text,
                            &signatures,
                            format!("{key}.signatures"),
                            format!(
                                "signatures must be a whole number from 0 to 100, not {}",
                                signatures.get_ref()
                            ),
                        )
                    })?;
            }
            if let Some(panel) = class.panel {
                rules.panel =
                    u32::try_from(*panel.get_ref()).ok().filter(|n| *n <= 100).ok_or_else(|| {
                        PolicyError::at(
                            text,
                            &panel,
                            format!("{key}.panel"),
                            format!(
                                "panel size must be a whole number from 0 to 100, not {}",
                                panel.get_ref()
                            ),
                        )
                    })?;
            }
        }
        for (code, severity) in self.findings {
            let key = format!("findings.{}", code.get_ref());
            if Code::from_name(code.get_ref()).is_none() {
                return Err(PolicyError::at(
                    text,
                    &code,
                    key,
                    "unknown finding code; `release-gate rules` lists them".into(),
                ));
            }
            let level = match severity.get_ref().as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "off" => None,
                other => {
                    return Err(PolicyError::at(
                        text,
                        &severity,
                        key,
                        format!("`{other}` is not one of `error`, `warning`, `off`"),
                    ));
                }
            };
            policy.findings.insert(code.into_inner(), level);
        }
        Ok(policy)
    }
}

/// The default policy written out with comments, as `release-gate init` creates it.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default-policy.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_out_default_is_the_default() {
        assert_eq!(Policy::from_toml(DEFAULT_POLICY_TOML), Ok(Policy::default()));
        assert_eq!(Policy::from_toml(""), Ok(Policy::default()));
    }

    #[test]
    fn overrides_apply_over_defaults() {
        let policy = Policy::from_toml(
            "[classes.high]\npanel = 3\n[classes.low]\ngates = [\"code\"]\n[findings]\n\"rollback-trigger-vague\" = \"warning\"\n\"field-unknown\" = \"off\"\n",
        )
        .unwrap();
        assert_eq!(policy.class(RiskClass::High).panel, 3);
        assert_eq!(policy.class(RiskClass::High).gates.len(), 5);
        assert_eq!(policy.class(RiskClass::Low).gates, BTreeSet::from([Layer::Code]));
        assert_eq!(policy.severity(Code::RollbackTriggerVague, Severity::Error), Some(Severity::Warning));
        assert_eq!(policy.severity(Code::FieldUnknown, Severity::Warning), None);
        assert_eq!(policy.severity(Code::ScopeMissing, Severity::Error), Some(Severity::Error));
    }

    #[track_caller]
    fn check_error(text: &str, line: usize, key: Option<&str>, message_part: &str) {
        let error = Policy::from_toml(text).unwrap_err();
        assert_eq!(error.line, Some(line), "{error}");
        assert_eq!(error.key.as_deref(), key, "{error}");
        assert!(error.to_string().contains(message_part), "{error}");
    }

    #[test]
    fn bad_policies_name_key_and_line() {
        check_error("version = 1\n\n[classes.high]\npanel = -1\n", 4, Some("classes.high.panel"), "0 to 100");
        check_error("[classes.urgent]\npanel = 1\n", 1, Some("classes.urgent"), "low");
        check_error("[classes.high]\ngates = [\"code\", \"qa\"]\n", 2, Some("classes.high.gates"), "`qa`");
        check_error("[classes.low]\ndrill = \"maybe\"\n", 2, Some("classes.low.drill"), "`maybe`");
        check_error(
            "[findings]\n\"no-such\" = \"off\"\n",
            2,
            Some("findings.no-such"),
            "unknown finding code",
        );
        check_error(
            "[findings]\n\"scope-missing\" = \"fatal\"\n",
            2,
            Some("findings.scope-missing"),
            "`fatal`",
        );
        check_error("[classes.high]\nsignatures = 101\n", 2, Some("classes.high.signatures"), "0 to 100");
        check_error("version = 2\n", 1, Some("version"), "version 1");
        check_error("[classes.high]\npannel = 3\n", 2, None, "pannel");
        check_error("[classes.high\n", 1, None, "");
        check_error("x = \"\u{0}\"", 1, None, "");
    }
}
