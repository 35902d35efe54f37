//! The Markdown form of a decision: finding the `Release Decision` section inside a larger document,
//! reading its bullets into a [`Decision`], and rendering a decision back as the protocol's template.
//!
//! The reader is line-based and never recurses, so a hostile document (huge, deeply nested, binary-ish)
//! costs time linear in its size and a constant amount of stack.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::decision::{ChecklistItem, Communication, Decision, Layer, Operations, Rehearsal};
use crate::finding::{Code, Findings, Severity};
use crate::value;

/// A top-level field of the Markdown template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Scope,
    RiskClass,
    Gates,
    ResidualRisks,
    RollbackTrigger,
    RollbackOwner,
    DecisionOwner,
    Decision,
    DecidedAt,
    Panel,
    Drill,
    Rehearsal,
    Communication,
    Operations,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Scope,
        Field::RiskClass,
        Field::Gates,
        Field::ResidualRisks,
        Field::RollbackTrigger,
        Field::RollbackOwner,
        Field::DecisionOwner,
        Field::Decision,
        Field::DecidedAt,
        Field::Panel,
        Field::Drill,
        Field::Rehearsal,
        Field::Communication,
        Field::Operations,
    ];

    /// The name the template uses.
    pub fn label(self) -> &'static str {
        match self {
            Field::Scope => "Release scope",
            Field::RiskClass => "Risk class",
            Field::Gates => "Gate results",
            Field::ResidualRisks => "Residual risks",
            Field::RollbackTrigger => "Rollback trigger",
            Field::RollbackOwner => "Rollback owner",
            Field::DecisionOwner => "Final decision owner",
            Field::Decision => "Decision",
            Field::DecidedAt => "Decision timestamp",
            Field::Panel => "Go/no-go panel",
            Field::Drill => "Pre-release drill",
            Field::Rehearsal => "Rollback rehearsal",
            Field::Communication => "Communication package",
            Field::Operations => "Operations",
        }
    }

    /// Looks a field up by name: the template's name or a common short form, in any case.
    pub fn from_name(name: &str) -> Option<Field> {
        let name = folded(name);
        let name = if name.contains(" / ") { Cow::Owned(name.replace(" / ", "/")) } else { name };
        let field = match name.as_ref() {
            "release scope" | "scope" => Field::Scope,
            "risk class" | "risk" => Field::RiskClass,
            "gate results" | "gates" => Field::Gates,
            "residual risks" | "residual risk" => Field::ResidualRisks,
            "rollback trigger" | "rollback triggers" => Field::RollbackTrigger,
            "rollback owner" => Field::RollbackOwner,
            "final decision owner" | "decision owner" => Field::DecisionOwner,
            "decision" => Field::Decision,
            "decision timestamp" | "decided at" => Field::DecidedAt,
            "go/no-go panel" | "panel" => Field::Panel,
            "pre-release drill" | "pre-release drill checklist" | "drill" => Field::Drill,
            "rollback rehearsal" | "rehearsal" => Field::Rehearsal,
            "communication package" | "communication" => Field::Communication,
            "operations" | "operational facts" | "operational readiness" => Field::Operations,
            _ => return None,
        };
        Some(field)
    }
}

/// Where things stood in the Markdown source, so findings can name a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceLines {
    /// The `Release Decision` heading.
    pub heading: u32,
    /// Each field's top-level bullet.
    pub fields: BTreeMap<Field, u32>,
    /// Each gate layer's bullet.
    pub gates: BTreeMap<Layer, u32>,
    /// The line of each rollback-trigger condition, in order.
    pub rollback_trigger: Vec<u32>,
    /// The `recovery time:` bullet of the rehearsal.
    pub recovery_time: Option<u32>,
}

impl SourceLines {
    /// The field's line, or the heading's when the field is absent.
    pub fn field_or_heading(&self, field: Field) -> u32 {
        self.fields.get(&field).copied().unwrap_or(self.heading)
    }

    /// The gate's line, or the heading's when the gate is absent.
    pub fn gate_or_heading(&self, layer: Layer) -> u32 {
        self.gates.get(&layer).copied().unwrap_or(self.heading)
    }
}

/// A decision read from Markdown, with its source lines and the reader's own warnings.
#[derive(Debug, Clone)]
pub struct ParsedMarkdown {
    pub decision: Decision,
    pub lines: SourceLines,
    pub findings: Findings,
}

/// The most bullets one top-level bullet of the section may hold, itself and nested ones included. The
/// template's longest list is a few dozen items; the bound keeps what a field costs to read independent of
/// the input's size.
pub const MAX_FIELD_BULLETS: usize = 10_000;

/// Why a Markdown document could not be read as a decision at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkdownError {
    #[error(
        "no `Release Decision` heading found: add a heading such as `### Release Decision` followed by the template's bullets"
    )]
    NoSection,
    #[error(
        "the bullet on line {line} has more than {MAX_FIELD_BULLETS} nested bullets; release-gate reads at most that many per field: shorten the list"
    )]
    TooManyBullets { line: u32 },
}

/// Reads the first `Release Decision` section of a Markdown document.
///
/// One pass over the lines, keeping only the top-level bullet being read: memory grows with the largest
/// field, not with the document.
pub fn parse(text: &str) -> Result<ParsedMarkdown, MarkdownError> {
    let mut out =
        Out { decision: Decision::default(), lines: SourceLines::default(), findings: Findings::new() };
    // The section's heading (index, level) once found, and whether the section has ended.
    let mut section: Option<(usize, u8)> = None;
    let mut ended = false;
    let mut builder = Builder::default();
    let mut error = None;
    for_each_line(text, |index, line| {
        if error.is_some() {
            return;
        }
        let Some((start, level)) = section else {
            if let Line::Heading { level, text } = &line
                && is_decision_heading(text)
            {
                section = Some((index, *level));
                out.lines.heading = line_number(index);
            }
            return;
        };
        if let Line::Heading { level: other, text } = &line {
            if is_decision_heading(text) {
                out.findings.add(Code::MultipleDecisions, Severity::Warning, Some(line_number(index)), || {
                    format!(
                        "A second `Release Decision` section starts here; only the first (line {}) is read. Keep one per document.",
                        line_number(start)
                    )
                });
            }
            if !ended && *other <= level {
                ended = true;
                builder.finish(&mut out);
            }
        }
        if !ended && let Err(found) = builder.line(index, line, &mut out) {
            error = Some(found);
        }
    });
    if let Some(error) = error {
        return Err(error);
    }
    if section.is_none() {
        return Err(MarkdownError::NoSection);
    }
    builder.finish(&mut out);
    let Out { decision, lines, findings } = out;
    Ok(ParsedMarkdown { decision: decision.normalized(), lines, findings })
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX - 1).saturating_add(1)
}

fn is_decision_heading(text: &str) -> bool {
    let text = text.trim().trim_matches(|c| matches!(c, '*' | '_' | '`')).trim();
    let text = text.strip_suffix(':').unwrap_or(text);
    value::tidy(text).eq_ignore_ascii_case("release decision")
}

/// What one source line is, after code fences and HTML comments are taken out. Text is borrowed from
/// the document unless a comment was cut out of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line<'a> {
    /// Blank, inside a code fence or an HTML comment, or a fence delimiter.
    Blank,
    Heading {
        level: u8,
        text: Cow<'a, str>,
    },
    Bullet {
        indent: usize,
        text: Cow<'a, str>,
    },
    Text {
        indent: usize,
        text: Cow<'a, str>,
    },
}

/// A line with visible content (not blank, not a setext underline): heading, bullet or text. `own` turns
/// a piece of `content` into the line's text: a borrow when `content` is the document's own text.
fn content_line<'s, 'a>(content: &'s str, indent: usize, own: impl Fn(&'s str) -> Cow<'a, str>) -> Line<'a> {
    if indent <= 3
        && let Some((level, text)) = atx_heading(content)
    {
        return Line::Heading { level, text: own(text) };
    }
    match bullet_text(content) {
        Some(item) => Line::Bullet { indent, text: own(item) },
        None => Line::Text { indent, text: own(content) },
    }
}

/// Hands each source line, classified, to `visit` with its 0-based index, in order. A paragraph line is
/// held back until the next line shows whether it underlines it into a (setext) heading.
fn for_each_line<'a>(text: &'a str, mut visit: impl FnMut(usize, Line<'a>)) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut fence: Option<(char, usize)> = None;
    let mut in_comment = false;
    // The previous line, when it is a paragraph line that a setext underline could turn into a heading.
    let mut held: Option<(usize, Line<'a>)> = None;
    let mut last_was_bullet = false;
    let mut in_list_item = false;
    for (index, raw) in text.split('\n').enumerate() {
        let paragraph = held.is_some();
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim_start();
        if let Some((fence_char, fence_len)) = fence {
            if is_fence_close(trimmed, fence_char, fence_len) {
                fence = None;
            }
            emit(&mut held, &mut last_was_bullet, &mut visit, index, Line::Blank);
            continue;
        }
        if let Some(open) = fence_open(trimmed) {
            fence = Some(open);
            emit(&mut held, &mut last_was_bullet, &mut visit, index, Line::Blank);
            continue;
        }
        let (visible, still_in_comment) = strip_comments(raw, in_comment);
        in_comment = still_in_comment;
        let indent = indentation(&visible);
        let content = visible.trim();
        if content.is_empty() {
            emit(&mut held, &mut last_was_bullet, &mut visit, index, Line::Blank);
            in_list_item = false;
            continue;
        }
        if indent <= 3
            && paragraph
            && let Some(level) = setext_level(content)
        {
            if let Some((held_index, Line::Text { text, .. })) = held.take() {
                visit(held_index, Line::Heading { level, text });
            }
            last_was_bullet = false;
            visit(index, Line::Blank);
            continue;
        }
        let line = match visible {
            Cow::Borrowed(source) => content_line(source.trim(), indent, Cow::Borrowed),
            Cow::Owned(cut) => content_line(cut.trim(), indent, |part| Cow::Owned(part.to_owned())),
        };
        match line {
            Line::Heading { .. } => in_list_item = false,
            Line::Text { .. } => {
                // A text line right after a list item continues that item; only other text starts a
                // paragraph.
                in_list_item = in_list_item || (!paragraph && last_was_bullet);
                if !in_list_item {
                    if let Some((held_index, held_line)) = held.take() {
                        visit(held_index, held_line);
                    }
                    last_was_bullet = false;
                    held = Some((index, line));
                    continue;
                }
            }
            Line::Bullet { .. } | Line::Blank => {}
        }
        emit(&mut held, &mut last_was_bullet, &mut visit, index, line);
    }
    if let Some((held_index, held_line)) = held {
        visit(held_index, held_line);
    }
}

/// Hands on the held paragraph line, if any, then `line`.
fn emit<'a>(
    held: &mut Option<(usize, Line<'a>)>,
    last_was_bullet: &mut bool,
    visit: &mut impl FnMut(usize, Line<'a>),
    index: usize,
    line: Line<'a>,
) {
    if let Some((held_index, held_line)) = held.take() {
        visit(held_index, held_line);
    }
    *last_was_bullet = matches!(line, Line::Bullet { .. });
    visit(index, line);
}

/// Removes `<!-- ... -->` comments from a line; returns the rest and whether a comment is still open.
fn strip_comments(line: &str, mut in_comment: bool) -> (Cow<'_, str>, bool) {
    // Most lines hold no comment: borrow them as they are.
    if !in_comment && !line.contains('<') {
        return (Cow::Borrowed(line), false);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    loop {
        if in_comment {
            match rest.find("-->") {
                Some(end) => {
                    rest = rest.get(end + 3..).unwrap_or("");
                    in_comment = false;
                }
                None => return (Cow::Owned(out), true),
            }
        } else {
            match rest.find("<!--") {
                Some(start) => {
                    out.push_str(rest.get(..start).unwrap_or(""));
                    rest = rest.get(start + 4..).unwrap_or("");
                    in_comment = true;
                }
                None => {
                    out.push_str(rest);
                    return (Cow::Owned(out), false);
                }
            }
        }
    }
}

/// Columns of leading white space, with tabs to the next multiple of four.
fn indentation(line: &str) -> usize {
    let mut column = 0;
    for c in line.chars() {
        match c {
            ' ' => column += 1,
            '\t' => column += 4 - column % 4,
            _ => break,
        }
    }
    column
}

fn fence_open(trimmed: &str) -> Option<(char, usize)> {
    let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|c| *c == fence_char).count();
    // A backtick fence's info string may not contain backticks.
    let info = trimmed.get(len..).unwrap_or("");
    (len >= 3 && !(fence_char == '`' && info.contains('`'))).then_some((fence_char, len))
}

fn is_fence_close(trimmed: &str, fence_char: char, fence_len: usize) -> bool {
    let len = trimmed.chars().take_while(|c| *c == fence_char).count();
    len >= fence_len && trimmed.get(len..).is_some_and(|rest| rest.trim().is_empty())
}

fn atx_heading(content: &str) -> Option<(u8, &str)> {
    let hashes = content.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = content.get(hashes..)?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut text = rest.trim();
    // An optional closing sequence of `#`s, preceded by a space.
    let without_closing = text.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        text = without_closing.trim_end();
    }
    Some((u8::try_from(hashes).unwrap_or(6), text))
}

fn setext_level(content: &str) -> Option<u8> {
    if content.chars().all(|c| c == '=') {
        Some(1)
    } else if content.len() >= 3 && content.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// The text of a list item (`-`, `*`, `+`, `1.` or `1)`), or `None` for any other line.
fn bullet_text(content: &str) -> Option<&str> {
    let after_marker = if let Some(rest) = content.strip_prefix(['-', '*', '+']) {
        rest
    } else {
        let digits = content.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        content.get(digits..)?.strip_prefix(['.', ')'])?
    };
    if after_marker.is_empty() {
        Some("")
    } else if after_marker.starts_with([' ', '\t']) {
        Some(after_marker.trim())
    } else {
        None
    }
}

/// One top-level bullet of the section and the bullets under it, in an arena so that depth costs no
/// stack. The top-level bullet is node 0.
#[derive(Debug, Default)]
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
}

#[derive(Debug)]
struct Node<'a> {
    /// 1-based source line.
    line: u32,
    /// Borrowed from the document unless continuation lines were joined to it.
    text: Cow<'a, str>,
    /// The children as a linked list (first, then each one's next sibling): no allocation per node.
    first_child: Option<usize>,
    last_child: Option<usize>,
    next_sibling: Option<usize>,
}

/// Builds the section's bullets into a [`Tree`] one top-level bullet at a time, reading each into the
/// decision as soon as it is complete.
#[derive(Debug, Default)]
struct Builder<'a> {
    tree: Tree<'a>,
    /// (indent, node) of the open bullets, innermost last.
    open: Vec<(usize, usize)>,
    /// The node a continuation line would extend, with its indent.
    last: Option<(usize, usize)>,
}

impl<'a> Builder<'a> {
    /// Takes the section's next line.
    fn line(&mut self, index: usize, line: Line<'a>, out: &mut Out) -> Result<(), MarkdownError> {
        match line {
            Line::Bullet { indent, text } => {
                while self.open.last().is_some_and(|(open_indent, _)| *open_indent >= indent) {
                    self.open.pop();
                }
                let parent = self.open.last().map(|(_, parent)| *parent);
                if parent.is_none() {
                    self.finish(out);
                }
                let tree = &mut self.tree;
                if tree.nodes.len() >= MAX_FIELD_BULLETS {
                    let line = tree.nodes.first().map_or(line_number(index), |root| root.line);
                    return Err(MarkdownError::TooManyBullets { line });
                }
                let id = tree.nodes.len();
                tree.nodes.push(Node {
                    line: line_number(index),
                    text,
                    first_child: None,
                    last_child: None,
                    next_sibling: None,
                });
                if let Some(parent) = parent {
                    tree.adopt(parent, id);
                }
                self.open.push((indent, id));
                self.last = Some((indent, id));
            }
            Line::Text { indent, text } => {
                // An indented line right after a bullet continues it (a wrapped value).
                match self.last.and_then(|(bullet_indent, id)| {
                    (indent > bullet_indent).then(|| self.tree.nodes.get_mut(id)).flatten()
                }) {
                    Some(node) => {
                        let joined = node.text.to_mut();
                        joined.push(' ');
                        joined.push_str(&text);
                    }
                    None => self.last = None,
                }
            }
            Line::Blank => self.last = None,
            Line::Heading { .. } => self.finish(out),
        }
        Ok(())
    }

    /// Reads the top-level bullet built so far, if any, and starts afresh.
    fn finish(&mut self, out: &mut Out) {
        if !self.tree.nodes.is_empty() {
            Reader { out, tree: &self.tree }.read_field(0);
        }
        self.tree.nodes.clear();
        self.open.clear();
        self.last = None;
    }
}

impl<'a> Tree<'a> {
    /// Appends `child` to `parent`'s children.
    fn adopt(&mut self, parent: usize, child: usize) {
        let previous = self.nodes.get_mut(parent).and_then(|node| {
            node.first_child.get_or_insert(child);
            node.last_child.replace(child)
        });
        if let Some(sibling) = previous.and_then(|previous| self.nodes.get_mut(previous)) {
            sibling.next_sibling = Some(child);
        }
    }

    fn node(&self, id: usize) -> Option<&Node<'a>> {
        self.nodes.get(id)
    }

    fn child_ids(&self, id: usize) -> impl Iterator<Item = usize> {
        let first = self.node(id).and_then(|node| node.first_child);
        std::iter::successors(first, |child| self.node(*child).and_then(|node| node.next_sibling))
    }

    fn children(&self, id: usize) -> impl Iterator<Item = &Node<'a>> {
        self.child_ids(id).filter_map(|child| self.node(child))
    }
}

/// Splits `name: value` at the first colon.
fn split_named(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once(':')?;
    Some((name.trim(), value.trim()))
}

/// What the reader has gathered so far.
#[derive(Debug)]
struct Out {
    decision: Decision,
    lines: SourceLines,
    findings: Findings,
}

/// Reads one top-level bullet (a field) into [`Out`].
struct Reader<'o, 't, 'a> {
    out: &'o mut Out,
    tree: &'t Tree<'a>,
}

impl<'t> Reader<'_, 't, '_> {
    fn unknown(&mut self, line: u32, what: &str, text: &str) {
        self.out.findings.add(Code::FieldUnknown, Severity::Warning, Some(line), || {
            let shown = value::excerpt(text, 60);
            format!(
                "`{shown}` is not {what}; it is ignored. Check the name against the template or move the text out of the list."
            )
        });
    }

    fn duplicate(&mut self, line: u32, name: &str, first: u32) {
        self.out.findings.add(Code::FieldDuplicate, Severity::Warning, Some(line), || {
            let name = value::excerpt(name, 60);
            format!("`{name}` is given again here; only the first (line {first}) is read. Keep one.")
        });
    }

    /// A field's items: the value after the colon (if any), then each nested bullet.
    fn items<'s>(&self, id: usize, inline: &'s str) -> Vec<(u32, &'s str)>
    where
        't: 's,
    {
        let tree = self.tree;
        let own_line = tree.node(id).map_or(0, |node| node.line);
        let inline = (!inline.is_empty()).then_some((own_line, inline));
        let children = tree
            .children(id)
            .filter(|child| !child.text.is_empty())
            .map(|child| (child.line, child.text.as_ref()));
        inline.into_iter().chain(children).collect()
    }

    fn texts(&self, id: usize, inline: &str) -> Vec<String> {
        self.items(id, inline).into_iter().map(|(_, text)| text.to_owned()).collect()
    }

    fn text_value(&self, id: usize, inline: &str) -> Option<String> {
        let items = self.items(id, inline);
        (!items.is_empty()).then(|| {
            let mut text = String::with_capacity(items.iter().map(|(_, item)| item.len() + 1).sum());
            for (_, item) in items {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(item);
            }
            text
        })
    }

    fn read_field(&mut self, id: usize) {
        let tree = self.tree;
        let Some(node) = tree.node(id) else { return };
        let line = node.line;
        let Some((name, inline)) = split_named(&node.text) else {
            self.unknown(line, "a `Field: value` bullet", &node.text);
            return;
        };
        let Some(field) = Field::from_name(name) else {
            self.unknown(line, "a field of the Release Decision template", name);
            return;
        };
        if let Some(&first) = self.out.lines.fields.get(&field) {
            self.duplicate(line, field.label(), first);
            return;
        }
        self.out.lines.fields.insert(field, line);
        match field {
            Field::Scope => self.out.decision.scope = self.text_value(id, inline),
            Field::RiskClass => self.out.decision.risk_class = self.text_value(id, inline),
            Field::RollbackOwner => self.out.decision.rollback_owner = self.text_value(id, inline),
            Field::DecisionOwner => self.out.decision.decision_owner = self.text_value(id, inline),
            Field::Decision => self.out.decision.decision = self.text_value(id, inline),
            Field::DecidedAt => self.out.decision.decided_at = self.text_value(id, inline),
            Field::ResidualRisks => self.out.decision.residual_risks = self.texts(id, inline),
            Field::Panel => self.out.decision.panel = self.texts(id, inline),
            Field::RollbackTrigger => {
                let items = self.items(id, inline);
                self.out.lines.rollback_trigger = items.iter().map(|(line, _)| *line).collect();
                self.out.decision.rollback_trigger =
                    items.into_iter().map(|(_, text)| text.to_owned()).collect();
            }
            Field::Gates => self.read_gates(id),
            Field::Drill => self.read_drill(id),
            Field::Rehearsal => {
                let mut rehearsal = Rehearsal::default();
                self.read_named(id, "a rollback rehearsal step", |label, line, value, lines| {
                    let label = match label {
                        "confirm recovery" | "confirm service recovers" => {
                            "confirm service recovers and alerts normalize"
                        }
                        "friction" => "friction points",
                        other => other,
                    };
                    let slot = rehearsal.field_mut(label)?;
                    if label == "recovery time" {
                        lines.recovery_time = Some(line);
                    }
                    Some(std::mem::replace(slot, value))
                });
                self.out.decision.rehearsal = Some(rehearsal);
            }
            Field::Communication => {
                let mut communication = Communication::default();
                self.read_named(id, "a communication package element", |label, _, value, _| {
                    let label = match label {
                        "escalation channel and owner" | "escalation channel" | "escalation owner" => {
                            "escalation"
                        }
                        other => other,
                    };
                    Some(std::mem::replace(communication.field_mut(label)?, value))
                });
                self.out.decision.communication = Some(communication);
            }
            Field::Operations => {
                let mut operations = Operations::default();
                self.read_named(id, "an operational fact", |label, _, value, _| {
                    let label = match label {
                        "on-call" | "on call owner" | "on call" => "on-call owner",
                        "backup" => "backup owner",
                        other => other,
                    };
                    Some(std::mem::replace(operations.field_mut(label)?, value))
                });
                self.out.decision.operations = Some(operations);
            }
        }
    }

    fn read_gates(&mut self, id: usize) {
        let tree = self.tree;
        for child in tree.child_ids(id) {
            let Some(node) = tree.node(child) else { continue };
            let (line, text) = (node.line, node.text.as_ref());
            let layer =
                split_named(text).and_then(|(name, value)| gate_layer(name).map(|layer| (layer, value)));
            let Some((layer, inline)) = layer else {
                self.unknown(line, "a gate layer (code, review, operational, communication, decision)", text);
                continue;
            };
            if let Some(&first) = self.out.lines.gates.get(&layer) {
                self.duplicate(line, layer.template_name(), first);
                continue;
            }
            self.out.lines.gates.insert(layer, line);
            *self.out.decision.gates.get_mut(layer) = self.text_value(child, inline);
        }
    }

    fn read_drill(&mut self, id: usize) {
        self.out.decision.drill = self
            .tree
            .children(id)
            .filter_map(|node| {
                let text = node.text.as_ref();
                let box_text = text.get(..3)?;
                let checked = match box_text {
                    "[x]" | "[X]" => true,
                    "[ ]" => false,
                    _ => return None,
                };
                Some(ChecklistItem { checked, item: text.get(3..).unwrap_or("").trim().to_owned() })
            })
            .collect();
    }

    /// Reads `name: value` children into a set of named slots; `store` returns the previous value of
    /// the slot, or `None` when the name is unknown.
    fn read_named(
        &mut self,
        id: usize,
        what: &str,
        mut store: impl FnMut(&str, u32, Option<String>, &mut SourceLines) -> Option<Option<String>>,
    ) {
        let tree = self.tree;
        // The few labels read so far, with their lines.
        let mut seen: Vec<(Cow<'_, str>, u32)> = Vec::new();
        for child in tree.child_ids(id) {
            let Some(node) = tree.node(child) else { continue };
            let (line, text) = (node.line, node.text.as_ref());
            let Some((name, inline)) = split_named(text) else {
                self.unknown(line, what, text);
                continue;
            };
            let label = folded(name);
            if let Some(&(_, first)) = seen.iter().find(|(known, _)| *known == label) {
                self.duplicate(line, name, first);
                continue;
            }
            let value = self.text_value(child, inline);
            match store(&label, line, value, &mut self.out.lines) {
                Some(_) => seen.push((label, line)),
                None => self.unknown(line, what, name),
            }
        }
    }
}

/// A name as compared: lowercase, with white space tidied; borrowed when it is so already.
fn folded(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|byte| byte.is_ascii_uppercase() || !byte.is_ascii()) {
        let lower = if name.is_ascii() { name.to_ascii_lowercase() } else { name.to_lowercase() };
        match value::tidy(&lower) {
            Cow::Borrowed(_) => Cow::Owned(lower),
            Cow::Owned(tidied) => Cow::Owned(tidied),
        }
    } else {
        value::tidy(name)
    }
}

fn gate_layer(name: &str) -> Option<Layer> {
    let name = folded(name);
    let base = name.strip_suffix(" gates").or_else(|| name.strip_suffix(" gate")).unwrap_or(&name);
    Layer::from_name(base)
}

/// Renders a decision as the protocol's copy-ready template, filled in.
///
/// The output reads back to the same record: `parse(render(d)).decision == d.normalized()`.
pub fn render(decision: &Decision) -> String {
    let mut out = String::from("### Release Decision\n\n");
    push_named(&mut out, "", Field::Scope.label(), decision.scope.as_deref());
    push_named(&mut out, "", Field::RiskClass.label(), decision.risk_class.as_deref());
    out.push_str("- Gate results:\n");
    for layer in Layer::ALL {
        push_named(&mut out, "  ", layer.template_name(), decision.gates.get(layer));
    }
    push_list(&mut out, Field::ResidualRisks.label(), &decision.residual_risks);
    push_list(&mut out, Field::RollbackTrigger.label(), &decision.rollback_trigger);
    for (field, value) in [
        (Field::RollbackOwner, &decision.rollback_owner),
        (Field::DecisionOwner, &decision.decision_owner),
        (Field::Decision, &decision.decision),
        (Field::DecidedAt, &decision.decided_at),
    ] {
        let values: Vec<String> = value.iter().flat_map(|text| text.lines().map(str::to_owned)).collect();
        push_list(&mut out, field.label(), &values);
    }
    if !decision.panel.is_empty() {
        push_list(&mut out, Field::Panel.label(), &decision.panel);
    }
    if !decision.drill.is_empty() {
        out.push_str(&format!("- {}:\n", Field::Drill.label()));
        for item in &decision.drill {
            let mark = if item.checked { "[x]" } else { "[ ]" };
            match item.item.as_str() {
                "" => out.push_str(&format!("  - {mark}\n")),
                text => out.push_str(&format!("  - {mark} {text}\n")),
            }
        }
    }
    if let Some(rehearsal) = &decision.rehearsal {
        out.push_str(&format!("- {}:\n", Field::Rehearsal.label()));
        for (label, value) in rehearsal.fields().into_iter().filter(|(_, value)| value.is_some()) {
            push_named(&mut out, "  ", label, value);
        }
    }
    if let Some(communication) = &decision.communication {
        out.push_str(&format!("- {}:\n", Field::Communication.label()));
        for (label, value) in communication.fields().into_iter().filter(|(_, value)| value.is_some()) {
            push_named(&mut out, "  ", label, value);
        }
    }
    if let Some(operations) = &decision.operations {
        out.push_str(&format!("- {}:\n", Field::Operations.label()));
        for (label, value) in operations.fields().into_iter().filter(|(_, value)| value.is_some()) {
            push_named(&mut out, "  ", label, value);
        }
    }
    out
}

fn push_list(out: &mut String, label: &str, items: &[String]) {
    out.push_str(&format!("- {label}:\n"));
    for item in items {
        out.push_str(&format!("  - {item}\n"));
    }
}

fn push_named(out: &mut String, indent: &str, label: &str, value: Option<&str>) {
    match value {
        None => out.push_str(&format!("{indent}- {label}:\n")),
        Some(text) if !text.contains('\n') => out.push_str(&format!("{indent}- {label}: {text}\n")),
        Some(text) => {
            out.push_str(&format!("{indent}- {label}:\n"));
            for line in text.lines() {
                out.push_str(&format!("{indent}  - {line}\n"));
            }
        }
    }
}
