//! The tool list a model can afford: `tools/list` goes to the model on every turn, so each tool's output
//! schema is reduced to what a client needs to read the result (an object, and the top-level values a
//! model branches on), and schema boilerplate is dropped from input schemas. Nothing is lost for a call:
//! input schemas keep every property, type, enumeration and description; what each result holds is said in
//! the tool's description and in the full schemas of `release-gate schema`.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::{Map, Value};

/// Enumerations up to this many values are kept in output schemas; longer ones become plain strings.
const MAX_ENUM: usize = 8;

/// Compacts every tool's schemas in place.
pub fn compact_tools<'a>(tools: impl Iterator<Item = &'a mut rmcp::model::Tool>) {
    for tool in tools {
        tool.input_schema = Arc::new(compact_input(&tool.input_schema));
        if let Some(annotations) = tool.annotations.as_mut() {
            // Hints equal to the protocol's defaults say nothing: read-only and idempotent default to
            // false, destructive and open-world to true.
            if annotations.read_only_hint == Some(false) {
                annotations.read_only_hint = None;
            }
            if annotations.idempotent_hint == Some(false) {
                annotations.idempotent_hint = None;
            }
            if annotations.destructive_hint == Some(true) {
                annotations.destructive_hint = None;
            }
            if annotations.open_world_hint == Some(true) {
                annotations.open_world_hint = None;
            }
        }
        if let Some(output) = tool.output_schema.take() {
            tool.output_schema = Some(Arc::new(compact_output(&output)));
        }
    }
}

/// An input schema without boilerplate: no `$schema`, no `"default": null` (an optional property is one
/// not listed in `required`), and a property that refers to a plain enumeration gets the values inline,
/// keeping its own description. Every property, type, value and description a call needs stays.
fn compact_input(schema: &JsonObject) -> JsonObject {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut out = schema.clone();
    out.remove("$schema");
    let mut inlined_all = true;
    if let Some(properties) = out.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            let Some(object) = property.as_object_mut() else { continue };
            if object.get("default") == Some(&Value::Null) {
                object.remove("default");
            }
            let target = object
                .get("$ref")
                .map(|reference| resolve(&serde_json::json!({ "$ref": reference }), defs).clone());
            match target.as_ref().and_then(|target| {
                target.get("enum").map(|values| (values.clone(), target.get("type").cloned()))
            }) {
                Some((values, kind)) => {
                    object.remove("$ref");
                    object.insert("enum".into(), values);
                    if let Some(kind) = kind {
                        object.insert("type".into(), kind);
                    }
                }
                None if object.contains_key("$ref") => inlined_all = false,
                None => {}
            }
        }
    }
    if inlined_all {
        out.remove("$defs");
    }
    out
}

/// An output schema reduced to an object with its top-level enumerations (a verdict, a state: the values a
/// model branches on). Other fields and `required` are left out: the result is JSON text the model reads,
/// its fields are named in the tool's description, and a client validating the structured result against
/// this schema accepts every result the full schema accepts.
fn compact_output(schema: &JsonObject) -> JsonObject {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut out = Map::new();
    out.insert("type".into(), Value::String("object".into()));
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let compact: Map<String, Value> = properties
            .iter()
            .map(|(name, property)| (name.clone(), shape(property, defs)))
            .filter(|(_, shape)| shape.get("enum").is_some())
            .collect();
        if !compact.is_empty() {
            out.insert("properties".into(), Value::Object(compact));
        }
    }
    out
}

/// A property reduced to its JSON type, or its values when it is a small enumeration; `{}` (anything)
/// when it is a union the type alone cannot say.
fn shape(property: &Value, defs: Option<&Map<String, Value>>) -> Value {
    let resolved = resolve(property, defs);
    if let Some(values) = enumeration(resolved, defs)
        && values.len() <= MAX_ENUM
    {
        return serde_json::json!({ "enum": values });
    }
    match resolved.get("type") {
        Some(kind) => serde_json::json!({ "type": kind }),
        None if enumeration(resolved, defs).is_some() => serde_json::json!({ "type": "string" }),
        None => Value::Object(Map::new()),
    }
}

/// A `$ref` to `#/$defs/NAME` replaced by the definition (one level: definitions are not recursed into).
fn resolve<'a>(property: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    property
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
        .and_then(|name| defs.and_then(|defs| defs.get(name)))
        .unwrap_or(property)
}

/// The values of an enumeration written as `enum` or as `oneOf` constants (a nullable one includes null).
fn enumeration(property: &Value, defs: Option<&Map<String, Value>>) -> Option<Vec<Value>> {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        return Some(values.clone());
    }
    let variants = property.get("oneOf").or_else(|| property.get("anyOf"))?.as_array()?;
    let mut values = Vec::new();
    for variant in variants {
        let variant = resolve(variant, defs);
        if let Some(constant) = variant.get("const") {
            values.push(constant.clone());
        } else if variant.get("type").and_then(Value::as_str) == Some("null") {
            values.push(Value::Null);
        } else if let Some(inner) = enumeration(variant, None) {
            values.extend(inner);
        } else {
            return None;
        }
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_schemas_keep_the_top_level_shape() {
        let schema: JsonObject = serde_json::from_value(serde_json::json!({
            "$defs": {
                "Verdict": {"oneOf": [{"const": "pass"}, {"const": "fail"}]},
                "Report": {"type": "object", "properties": {"deep": {"type": "string"}}}
            },
            "type": "object",
            "properties": {
                "verdict": {"$ref": "#/$defs/Verdict", "description": "long words"},
                "report": {"$ref": "#/$defs/Report"},
                "count": {"type": "integer", "format": "uint"},
                "maybe": {"anyOf": [{"$ref": "#/$defs/Report"}, {"type": "null"}]}
            },
            "required": ["verdict", "report"]
        }))
        .unwrap();
        let compact = Value::Object(compact_output(&schema));
        assert_eq!(
            compact,
            serde_json::json!({
                "type": "object",
                "properties": {
                    "verdict": {"enum": ["pass", "fail"]}
                }
            })
        );
    }

    #[test]
    fn input_schemas_keep_every_property_and_inline_enumerations() {
        let schema: JsonObject = serde_json::from_value(serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {"RiskClass": {"description": "long", "enum": ["low", "medium", "high"], "type": "string"}},
            "additionalProperties": false,
            "properties": {
                "risk_class": {"$ref": "#/$defs/RiskClass", "description": "The class."},
                "base": {"default": null, "description": "The base.", "type": "string"}
            },
            "required": ["risk_class"],
            "type": "object"
        }))
        .unwrap();
        assert_eq!(
            Value::Object(compact_input(&schema)),
            serde_json::json!({
                "additionalProperties": false,
                "properties": {
                    "risk_class": {"description": "The class.", "enum": ["low", "medium", "high"], "type": "string"},
                    "base": {"description": "The base.", "type": "string"}
                },
                "required": ["risk_class"],
                "type": "object"
            })
        );
    }
}
