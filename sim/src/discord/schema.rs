//! Request bodies checked against Discord's OpenAPI description (the trimmed
//! extract in `spec/`, built into the binary), plus the few documented rules
//! the description leaves out. A failed check reads as Discord's
//! `50035 Invalid Form Body` with its nested `errors` object.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

/// The trimmed description: request bodies of the routes the fake serves.
const SPEC: &str = include_str!("spec/openapi-trimmed.json");

/// One thing wrong with a body: where, and Discord's code and words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Keys and indexes from the body's root, as Discord nests its errors.
    pub path: Vec<String>,
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(path: &[String], code: &'static str, message: impl Into<String>) -> Self {
        Violation {
            path: path.to_vec(),
            code,
            message: message.into(),
        }
    }

    /// `components.0.components.1.custom_id`, for logs and assertions.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// The parsed description.
pub struct Spec {
    root: Value,
}

/// The description, parsed once.
pub fn spec() -> &'static Spec {
    static PARSED: OnceLock<Spec> = OnceLock::new();
    PARSED.get_or_init(|| Spec::from_json(SPEC))
}

impl Spec {
    /// A description in the trimmed form (`paths` and `components.schemas`);
    /// one that does not parse describes nothing.
    pub fn from_json(text: &str) -> Spec {
        Spec {
            root: serde_json::from_str(text)
                .unwrap_or_else(|_| json!({"paths": {}, "components": {"schemas": {}}})),
        }
    }

    /// The JSON schema of the body of `method` on `template` sent as
    /// `content_type`, where the description lists a schema per media type.
    pub fn body_schema(&self, template: &str, method: &str, content_type: &str) -> Option<&Value> {
        self.root
            .get("paths")?
            .get(template)?
            .get(method.to_ascii_lowercase())?
            .get("requestBody")?
            .get("content")?
            .get(content_type)?
            .get("schema")
    }

    /// The JSON schema of the body of `method` on `template` (as the
    /// description spells the path, e.g. `/channels/{channel_id}/messages`).
    pub fn request_schema(&self, template: &str, method: &str) -> Option<&Value> {
        self.root
            .get("paths")?
            .get(template)?
            .get(method.to_ascii_lowercase())?
            .get("requestBody")?
            .get("schema")
            .filter(|s| !s.is_null())
    }

    /// A named component schema.
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.root.get("components")?.get("schemas")?.get(name)
    }

    /// Every way `value` breaks `schema`.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(schema, value, &mut Vec::new(), &mut out);
        out
    }

    /// The locales Discord knows (`AvailableLocalesEnum`).
    pub fn is_locale(&self, tag: &str) -> bool {
        self.schema("AvailableLocalesEnum")
            .and_then(|s| s.get("oneOf"))
            .and_then(Value::as_array)
            .is_some_and(|all| {
                all.iter()
                    .any(|v| v.get("const").and_then(Value::as_str) == Some(tag))
            })
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        for _ in 0..32 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    match self.schema(name) {
                        Some(found) => schema = found,
                        None => return &Value::Null,
                    }
                }
                None => return schema,
            }
        }
        schema
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<Violation>,
    ) {
        let schema = self.resolve(schema);
        let Some(rules) = schema.as_object() else {
            return;
        };
        if let Some(all) = rules.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.check(part, value, path, out);
            }
        }
        for union in ["oneOf", "anyOf"] {
            if let Some(choices) = rules.get(union).and_then(Value::as_array) {
                self.check_union(choices, value, path, out);
            }
        }
        if let Some(types) = rules.get("type") {
            if !type_matches(types, rules, value) {
                out.push(type_violation(path, types, value));
                return;
            }
        }
        if let Some(allowed) = rules.get("enum").and_then(Value::as_array) {
            if !allowed.iter().any(|a| same_value(a, value)) {
                out.push(choices_violation(path, allowed));
            }
        }
        if let Some(constant) = rules.get("const") {
            if !same_value(constant, value) {
                out.push(choices_violation(path, std::slice::from_ref(constant)));
            }
        }
        match value {
            Value::String(text) => check_string(rules, text, path, out),
            Value::Number(_) => check_number(rules, value, path, out),
            Value::Array(items) => self.check_array(rules, items, path, out),
            Value::Object(object) => self.check_object(rules, object, path, out),
            _ => {}
        }
    }

    /// A value must fit one of the alternatives; when it fits none, the
    /// errors of the alternative it came closest to are reported.
    fn check_union(
        &self,
        choices: &[Value],
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<Violation>,
    ) {
        let mut best: Option<(bool, usize, Vec<Violation>)> = None;
        for choice in choices {
            let mut found = Vec::new();
            self.check(choice, value, path, &mut found);
            if found.is_empty() {
                return;
            }
            // An alternative that fails at the value itself (wrong type or
            // wrong discriminator) is a worse match than one failing deeper.
            let shallow = found
                .iter()
                .any(|v| v.path.len() <= path.len() + 1 && is_discriminating(v, path));
            let rank = (shallow, found.len());
            if best.as_ref().is_none_or(|(s, n, _)| rank < (*s, *n)) {
                best = Some((rank.0, rank.1, found));
            }
        }
        if let Some((_, _, found)) = best {
            out.extend(found);
        }
    }

    fn check_array(
        &self,
        rules: &Map<String, Value>,
        items: &[Value],
        path: &mut Vec<String>,
        out: &mut Vec<Violation>,
    ) {
        let len = items.len() as u64;
        let min = rules.get("minItems").and_then(Value::as_u64);
        let max = rules.get("maxItems").and_then(Value::as_u64);
        if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
            out.push(length_violation(path, min, max));
        }
        if rules.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            for (i, item) in items.iter().enumerate() {
                if items[..i].contains(item) {
                    path.push(i.to_string());
                    out.push(Violation::new(
                        path,
                        "LIST_ITEM_VALUE_NOT_UNIQUE",
                        "List item values must be unique.",
                    ));
                    path.pop();
                }
            }
        }
        if let Some(schema) = rules.get("items") {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                self.check(schema, item, path, out);
                path.pop();
            }
        }
    }

    fn check_object(
        &self,
        rules: &Map<String, Value>,
        object: &Map<String, Value>,
        path: &mut Vec<String>,
        out: &mut Vec<Violation>,
    ) {
        let properties = rules.get("properties").and_then(Value::as_object);
        if let Some(required) = rules.get("required").and_then(Value::as_array) {
            for key in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(key) {
                    path.push(key.to_owned());
                    out.push(Violation::new(
                        path,
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    ));
                    path.pop();
                }
            }
        }
        let count = object.len() as u64;
        let max = rules.get("maxProperties").and_then(Value::as_u64);
        let min = rules.get("minProperties").and_then(Value::as_u64);
        if max.is_some_and(|m| count > m) || min.is_some_and(|m| count < m) {
            out.push(length_violation(path, min, max));
        }
        for (key, item) in object {
            let schema = properties.and_then(|p| p.get(key));
            path.push(key.clone());
            match (schema, rules.get("additionalProperties")) {
                (Some(schema), _) => self.check(schema, item, path, out),
                (None, Some(Value::Bool(false))) => {
                    out.push(Violation::new(
                        path,
                        "UNKNOWN_FIELD",
                        format!("Unknown field \"{key}\"."),
                    ));
                }
                (None, Some(extra)) if extra.is_object() => self.check(extra, item, path, out),
                _ => {}
            }
            path.pop();
        }
    }
}

/// Whether a violation sits at the union's own value (type or `type` key).
fn is_discriminating(v: &Violation, path: &[String]) -> bool {
    v.path.len() == path.len() || v.path.last().map(String::as_str) == Some("type")
}

fn type_matches(types: &Value, rules: &Map<String, Value>, value: &Value) -> bool {
    let names: Vec<&str> = match types {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    // Discord takes a snowflake as a string or as a JSON integer.
    let snowflake = rules.get("format").and_then(Value::as_str) == Some("snowflake");
    names.iter().any(|name| match *name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string() || snowflake && (value.is_u64()),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    })
}

fn check_string(rules: &Map<String, Value>, text: &str, path: &[String], out: &mut Vec<Violation>) {
    let len = text.chars().count() as u64;
    let min = rules.get("minLength").and_then(Value::as_u64);
    let max = rules.get("maxLength").and_then(Value::as_u64);
    if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
        out.push(length_violation(path, min, max));
    }
    if let Some(pattern) = rules.get("pattern").and_then(Value::as_str) {
        if !matches_known_pattern(pattern, text) {
            out.push(Violation::new(
                path,
                "STRING_TYPE_REGEX",
                format!("String value did not match validation regex {pattern}."),
            ));
        }
    }
}

/// The description uses two patterns only; any other is taken as matched.
fn matches_known_pattern(pattern: &str, text: &str) -> bool {
    match pattern {
        "^(0|[1-9][0-9]*)$" => {
            text == "0"
                || (!text.is_empty()
                    && !text.starts_with('0')
                    && text.bytes().all(|b| b.is_ascii_digit()))
        }
        "^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$" => text.strip_prefix('#').is_some_and(|hex| {
            matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        }),
        _ => true,
    }
}

fn check_number(
    rules: &Map<String, Value>,
    value: &Value,
    path: &[String],
    out: &mut Vec<Violation>,
) {
    let Some(number) = value.as_f64() else {
        return;
    };
    if let Some(min) = rules.get("minimum").and_then(Value::as_f64) {
        if number < min {
            out.push(Violation::new(
                path,
                "NUMBER_TYPE_MIN",
                format!("int value should be greater than or equal to {min}."),
            ));
        }
    }
    if let Some(max) = rules.get("maximum").and_then(Value::as_f64) {
        if number > max {
            out.push(Violation::new(
                path,
                "NUMBER_TYPE_MAX",
                format!("int value should be less than or equal to {max}."),
            ));
        }
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn type_violation(path: &[String], types: &Value, value: &Value) -> Violation {
    let wanted = match types {
        Value::String(one) => one.clone(),
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "value".to_owned(),
    };
    let (code, message) = match wanted.as_str() {
        "string" => (
            "BASE_TYPE_STRING",
            format!("Could not interpret \"{}\" as string.", short(value)),
        ),
        "integer" | "number" => (
            "NUMBER_TYPE_COERCE",
            format!("Value \"{}\" is not int.", short(value)),
        ),
        "boolean" => (
            "BASE_TYPE_BOOLEAN",
            "Must be either true or false.".to_owned(),
        ),
        "array" => ("BASE_TYPE_ARRAY", "Must be an array.".to_owned()),
        "object" => (
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType".to_owned(),
        ),
        "null" => ("BASE_TYPE_CHOICES", "Value must be null.".to_owned()),
        _ => ("BASE_TYPE_CHOICES", format!("Expected {wanted}.")),
    };
    Violation::new(path, code, message)
}

fn choices_violation(path: &[String], allowed: &[Value]) -> Violation {
    let list: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
    Violation::new(
        path,
        "BASE_TYPE_CHOICES",
        format!("Value must be one of {{{}}}.", list.join(", ")),
    )
}

fn length_violation(path: &[String], min: Option<u64>, max: Option<u64>) -> Violation {
    match (min, max) {
        (Some(min), Some(max)) => Violation::new(
            path,
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        ),
        (None, Some(max)) => Violation::new(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        ),
        (Some(min), None) => Violation::new(
            path,
            "BASE_TYPE_MIN_LENGTH",
            format!("Must be {min} or more in length."),
        ),
        (None, None) => Violation::new(path, "BASE_TYPE_BAD_LENGTH", "Bad length."),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    text.chars().take(40).collect()
}

/// Discord's nested error object: `{"content": {"_errors": [...]}}`.
pub fn errors_object(violations: &[Violation]) -> Value {
    let mut root = Value::Object(Map::new());
    for violation in violations {
        let mut node = &mut root;
        for key in &violation.path {
            let Value::Object(map) = node else { break };
            node = map
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
        }
        if let Value::Object(map) = node {
            let list = map.entry("_errors").or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(list) = list {
                list.push(json!({"code": violation.code, "message": violation.message}));
            }
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_schema() -> &'static Value {
        spec()
            .request_schema("/channels/{channel_id}/messages", "post")
            .expect("the create-message schema is in the extract")
    }

    #[test]
    fn a_plain_message_with_a_button_row_passes() {
        let body = json!({
            "content": "hello",
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "remix:7QK3M2XD"}]}],
            "message_reference": {"message_id": "123", "fail_if_not_exists": false},
            "attachments": [{"id": 0, "filename": "a.mp4", "description": null}]
        });
        assert_eq!(spec().validate(message_schema(), &body), vec![]);
    }

    #[test]
    fn an_overlong_custom_id_is_named_where_it_sits() {
        let body = json!({
            "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "x".repeat(101)}]}]
        });
        let found = spec().validate(message_schema(), &body);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].dotted(), "components.0.components.0.custom_id");
        assert_eq!(found[0].code, "BASE_TYPE_BAD_LENGTH");
    }

    #[test]
    fn six_buttons_in_a_row_are_too_many() {
        let button = json!({"type": 2, "style": 2, "label": "b", "custom_id": "c"});
        let body = json!({"components": [{"type": 1, "components": vec![button; 6]}]});
        let found = spec().validate(message_schema(), &body);
        assert!(
            found
                .iter()
                .any(|v| v.dotted() == "components.0.components"),
            "{found:?}"
        );
    }

    #[test]
    fn errors_nest_like_discords() {
        let v = Violation::new(
            &["content".to_owned()],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2000 or fewer in length.",
        );
        assert_eq!(
            errors_object(&[v]),
            json!({"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}})
        );
    }

    #[test]
    fn locales_come_from_the_description() {
        assert!(spec().is_locale("zh-CN") && spec().is_locale("zh-TW"));
        assert!(!spec().is_locale("zh"));
    }
}
