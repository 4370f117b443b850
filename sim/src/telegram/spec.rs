//! The Bot API as data, and the check of a request's parameters against it.
//!
//! `spec/bot-api.json` is a committed extract of the Bot API 10.1 as data
//! (PaulSonOfLars/telegram-bot-api-spec @ 160fd99, `api.json`, MIT): every method's
//! fields and the types a request can carry, without the prose
//! (`spec/extract.py` writes it). Every request is checked against it before
//! a method runs: unknown parameter, missing required parameter or a value of
//! the wrong type is a 400, down into nested objects such as
//! `reply_markup`. Values are coerced the way Telegram coerces them: form and
//! multipart fields are text, so `"42"` is an Integer and `"true"` a Boolean,
//! and an object may come as a JSON string.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::errors::ApiError;

const SPEC_JSON: &str = include_str!("spec/bot-api.json");

/// The methods and types of the Bot API.
#[derive(Debug, Deserialize)]
pub struct Spec {
    pub version: String,
    pub methods: HashMap<String, MethodSpec>,
    pub types: HashMap<String, TypeSpec>,
}

#[derive(Debug, Deserialize)]
pub struct MethodSpec {
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Deserialize)]
pub struct TypeSpec {
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// An abstract type (`BotCommandScope`) is one of these.
    #[serde(default)]
    pub subtypes: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    /// Alternatives: `["Integer", "String"]`, `["Array of MessageEntity"]`.
    pub types: Vec<String>,
    pub required: bool,
    /// The value a subtype's discriminator must hold (`"type": "default"`).
    #[serde(rename = "const", default)]
    pub constant: Option<String>,
}

/// The spec, parsed once.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(SPEC_JSON).expect("the committed Bot API extract parses")
    })
}

/// A file part of a multipart request.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The part's name (a parameter's name, or the id `attach://` names).
    pub part: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// One parameter as it came: typed JSON, or text from a query, form or multipart field.
#[derive(Debug, Clone)]
pub enum Raw {
    Json(Value),
    Text(String),
    File(Upload),
}

impl Raw {
    /// The value as JSON, for the record of a request that failed the check.
    pub fn to_json(&self) -> Value {
        match self {
            Raw::Json(value) => value.clone(),
            Raw::Text(text) => Value::String(text.clone()),
            Raw::File(upload) => Value::String(format!("attach://{}", upload.part)),
        }
    }
}

/// Checked parameters: values coerced to their spec type, files by parameter.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub values: Map<String, Value>,
    pub files: BTreeMap<String, Upload>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.values.get(name).and_then(Value::as_i64)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// A Boolean parameter; absent is false.
    pub fn flag(&self, name: &str) -> bool {
        self.values
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

impl Spec {
    /// A method by name; Telegram reads method names in any case.
    pub fn method(&self, name: &str) -> Option<(&str, &MethodSpec)> {
        self.methods
            .get_key_value(name)
            .or_else(|| {
                self.methods
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(name))
            })
            .map(|(name, spec)| (name.as_str(), spec))
    }

    /// Checks a request's parameters against `method`; `attachments` are
    /// the file parts that `attach://NAME` values may point at.
    pub fn check(
        &self,
        method: &MethodSpec,
        raw: Vec<(String, Raw)>,
        attachments: &HashMap<String, Upload>,
    ) -> Result<Params, ApiError> {
        let mut params = Params::default();
        for (name, raw) in raw {
            let Some(field) = method.fields.iter().find(|f| f.name == name) else {
                return Err(ApiError::bad(format!("unexpected parameter \"{name}\"")));
            };
            let takes_file = field.types.iter().any(|t| t == "InputFile");
            let value = match raw {
                Raw::File(upload) if takes_file => {
                    params.values.insert(
                        name.clone(),
                        Value::String(format!("attach://{}", upload.part)),
                    );
                    params.files.insert(name, upload);
                    continue;
                }
                Raw::File(_) => {
                    return Err(ApiError::bad(format!(
                    "wrong parameter {name} in request: a file was uploaded where {} is expected",
                    field.types.join(" or ")
                )))
                }
                // Telegram reads a JSON null as "not given".
                Raw::Json(Value::Null) => continue,
                Raw::Json(value) => value,
                Raw::Text(text) => Value::String(text),
            };
            if takes_file {
                if let Some(id) = value.as_str().and_then(|s| s.strip_prefix("attach://")) {
                    let upload = attachments.get(id).ok_or_else(|| {
                        ApiError::bad(format!(
                            "wrong parameter {name} in request: no file was uploaded as \"{id}\""
                        ))
                    })?;
                    params.files.insert(name.clone(), upload.clone());
                    params.values.insert(name, value);
                    continue;
                }
            }
            let types: Vec<&str> = field
                .types
                .iter()
                .map(String::as_str)
                .filter(|t| *t != "InputFile")
                .collect();
            if types.is_empty() {
                return Err(ApiError::bad(format!(
                    "wrong parameter {name} in request: a file must be uploaded"
                )));
            }
            let value = self.conform(&types, &value).map_err(|detail| {
                if detail.starts_with("can't parse") {
                    ApiError::bad(detail)
                } else {
                    ApiError::bad(format!("wrong parameter {name} in request: {detail}"))
                }
            })?;
            params.values.insert(name, value);
        }
        if let Some(missing) = method
            .fields
            .iter()
            .find(|f| f.required && !params.values.contains_key(&f.name))
        {
            return Err(missing_parameter(missing));
        }
        Ok(params)
    }

    /// The value as one of `types`, or why it is none of them.
    fn conform(&self, types: &[&str], value: &Value) -> Result<Value, String> {
        let mut errors = Vec::new();
        for ty in types {
            match self.conform_one(ty, value) {
                Ok(value) => return Ok(value),
                Err(error) => errors.push(error),
            }
        }
        Err(errors
            .iter()
            .find(|e| e.contains("can't parse"))
            .cloned()
            .unwrap_or_else(|| format!("expected {}", types.join(" or "))))
    }

    fn conform_one(&self, ty: &str, value: &Value) -> Result<Value, String> {
        let expected = || format!("expected {ty}");
        match ty {
            "Integer" => match value {
                Value::Number(n) if n.is_i64() => Ok(value.clone()),
                Value::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| expected()),
                _ => Err(expected()),
            },
            "Float" => match value {
                Value::Number(_) => Ok(value.clone()),
                Value::String(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                    .ok_or_else(expected),
                _ => Err(expected()),
            },
            "Boolean" => match value {
                Value::Bool(_) => Ok(value.clone()),
                Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                    Ok(Value::Bool(n.as_i64() == Some(1)))
                }
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Ok(Value::Bool(true)),
                    "false" | "0" => Ok(Value::Bool(false)),
                    _ => Err(expected()),
                },
                _ => Err(expected()),
            },
            "String" => match value {
                Value::String(_) => Ok(value.clone()),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err(expected()),
            },
            "InputFile" => Err("a file must be uploaded".to_owned()),
            _ => {
                if let Some(inner) = ty.strip_prefix("Array of ") {
                    let items = match json_text(value) {
                        Some(Value::Array(items)) => items,
                        _ => return Err(expected()),
                    };
                    let checked = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            self.conform_one(inner, item)
                                .map_err(|e| format!("item {i} of {ty}: {e}"))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(Value::Array(checked));
                }
                match json_text(value) {
                    Some(Value::Object(object)) => self.check_object(ty, &object),
                    _ => Err(format!("can't parse {ty} JSON object: expected an object")),
                }
            }
        }
    }

    /// Checks an object against type `name` (or, for an abstract type, the
    /// subtype its discriminator names).
    fn check_object(&self, name: &str, object: &Map<String, Value>) -> Result<Value, String> {
        let Some(spec) = self.types.get(name) else {
            return Ok(Value::Object(object.clone()));
        };
        if !spec.subtypes.is_empty() {
            return self.check_subtype(name, spec, object);
        }
        let mut out = Map::new();
        for (key, value) in object.iter().filter(|(_, v)| !v.is_null()) {
            let Some(field) = spec.fields.iter().find(|f| f.name == *key) else {
                return Err(format!(
                    "can't parse {name} JSON object: unexpected field \"{key}\""
                ));
            };
            if let Some(constant) = &field.constant {
                if value.as_str() != Some(constant.as_str()) {
                    return Err(format!(
                        "can't parse {name} JSON object: field \"{key}\" must be \"{constant}\""
                    ));
                }
            }
            let types: Vec<&str> = field.types.iter().map(String::as_str).collect();
            let value = self.conform(&types, value).map_err(|detail| {
                format!("can't parse {name} JSON object: field \"{key}\": {detail}")
            })?;
            out.insert(key.clone(), value);
        }
        if let Some(missing) = spec
            .fields
            .iter()
            .find(|f| f.required && !out.contains_key(&f.name))
        {
            return Err(format!(
                "can't parse {name} JSON object: field \"{}\" is required",
                missing.name
            ));
        }
        Ok(Value::Object(out))
    }

    fn check_subtype(
        &self,
        name: &str,
        spec: &TypeSpec,
        object: &Map<String, Value>,
    ) -> Result<Value, String> {
        let tagged = spec.subtypes.iter().find_map(|sub| {
            let field = self
                .types
                .get(sub)?
                .fields
                .iter()
                .find(|f| f.constant.is_some())?;
            Some(field.name.clone())
        });
        if let Some(tag) = tagged {
            let Some(value) = object.get(&tag).and_then(Value::as_str) else {
                return Err(format!(
                    "can't parse {name} JSON object: field \"{tag}\" is required"
                ));
            };
            let chosen = spec.subtypes.iter().find(|sub| {
                self.types.get(*sub).is_some_and(|t| {
                    t.fields
                        .iter()
                        .any(|f| f.name == tag && f.constant.as_deref() == Some(value))
                })
            });
            return match chosen {
                Some(sub) => self.check_object(sub, object),
                None => Err(format!(
                    "can't parse {name} JSON object: unsupported {tag} \"{value}\""
                )),
            };
        }
        let mut last = format!("can't parse {name} JSON object");
        for sub in &spec.subtypes {
            match self.conform_one(sub, &Value::Object(object.clone())) {
                Ok(value) => return Ok(value),
                Err(error) => last = error,
            }
        }
        Err(last)
    }
}

/// A JSON value, or the JSON a string holds (form fields carry objects as text).
fn json_text(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        other => Some(other.clone()),
    }
}

/// How Telegram says a required parameter is missing.
fn missing_parameter(field: &FieldSpec) -> ApiError {
    if field.types.iter().any(|t| t == "InputFile") {
        ApiError::bad(format!("there is no {} in the request", field.name))
    } else if field.name == "text" {
        ApiError::bad("message text is empty")
    } else {
        ApiError::bad(format!("{} is empty", field.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(method: &str, raw: Vec<(&str, Raw)>) -> Result<Params, ApiError> {
        let spec = spec();
        let (_, method) = spec.method(method).expect("a known method");
        let raw = raw.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        spec.check(method, raw, &HashMap::new())
    }

    #[test]
    fn the_extract_is_bot_api_10_1_and_knows_the_methods_teloxide_calls() {
        let spec = spec();
        assert_eq!(spec.version, "Bot API 10.1");
        for method in [
            "getMe",
            "getUpdates",
            "sendVideo",
            "setMyCommands",
            "answerCallbackQuery",
        ] {
            assert!(spec.method(method).is_some(), "{method}");
        }
        assert_eq!(
            spec.method("SENDMESSAGE").map(|(n, _)| n),
            Some("sendMessage")
        );
    }

    #[test]
    fn text_values_are_coerced_to_their_types() {
        let params = check(
            "sendMessage",
            vec![
                ("chat_id", Raw::Text("-100".into())),
                ("text", Raw::Text("hi".into())),
                ("disable_notification", Raw::Text("true".into())),
                (
                    "reply_markup",
                    Raw::Text(r#"{"force_reply":true,"selective":true}"#.into()),
                ),
            ],
        )
        .expect("valid");
        assert_eq!(params.int("chat_id"), Some(-100));
        assert!(params.flag("disable_notification"));
        assert_eq!(
            params.get("reply_markup"),
            Some(&json!({"force_reply":true,"selective":true}))
        );
    }

    #[test]
    fn unknown_missing_and_mistyped_parameters_are_refused() {
        let unknown = check(
            "sendMessage",
            vec![
                ("chat_id", Raw::Json(json!(1))),
                ("text", Raw::Json(json!("a"))),
                ("colour", Raw::Json(json!("red"))),
            ],
        )
        .unwrap_err();
        assert_eq!(
            unknown.description,
            "Bad Request: unexpected parameter \"colour\""
        );
        let missing = check("sendMessage", vec![("chat_id", Raw::Json(json!(1)))]).unwrap_err();
        assert_eq!(missing.description, "Bad Request: message text is empty");
        let mistyped = check(
            "sendMessage",
            vec![
                ("chat_id", Raw::Json(json!({"id": 1}))),
                ("text", Raw::Json(json!("a"))),
            ],
        )
        .unwrap_err();
        assert!(mistyped.description.contains("chat_id"), "{mistyped:?}");
        let nested = check(
            "sendMessage",
            vec![
                ("chat_id", Raw::Json(json!(1))),
                ("text", Raw::Json(json!("a"))),
                (
                    "reply_markup",
                    Raw::Json(json!({"inline_keyboard": [[{"text": "x", "callback": "y"}]]})),
                ),
            ],
        )
        .unwrap_err();
        assert!(
            nested.description.contains("unexpected field \"callback\""),
            "{nested:?}"
        );
    }

    #[test]
    fn abstract_types_are_checked_as_the_subtype_they_name() {
        let ok = check(
            "setMyCommands",
            vec![
                (
                    "commands",
                    Raw::Json(json!([{"command": "video", "description": "Make a video"}])),
                ),
                ("scope", Raw::Json(json!({"type": "all_group_chats"}))),
            ],
        );
        assert!(ok.is_ok(), "{ok:?}");
        let bad = check(
            "setMyCommands",
            vec![
                ("commands", Raw::Json(json!([]))),
                ("scope", Raw::Json(json!({"type": "everyone"}))),
            ],
        )
        .unwrap_err();
        assert!(bad.description.contains("unsupported type"), "{bad:?}");
    }
}
