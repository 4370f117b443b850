//! The request body as handlers read it: JSON or multipart fields, with lenient typed access.
//!
//! The body was already buffered (and multipart parsed) by the recorder; JSON is read whatever
//! the `Content-Type` says, as relays do (curl `-d` sends `x-www-form-urlencoded`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::record::{Captured, RecordedPart};

/// The captured body of the current request.
#[derive(Debug, Clone)]
pub struct Payload(Captured);

impl<S: Send + Sync> FromRequestParts<S> for Payload {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Captured>()
            .cloned()
            .map(Self)
            .ok_or_else(|| ApiError::internal("The request body was not captured."))
    }
}

impl Payload {
    /// The request as recorded (headers, body, parts).
    pub fn recorded(&self) -> &super::record::Recorded {
        &self.0.request
    }

    pub fn is_multipart(&self) -> bool {
        self.0.request.is_multipart()
    }

    /// The fields of a JSON object body; multipart is refused.
    pub fn json(&self) -> Result<Fields, ApiError> {
        if self.is_multipart() {
            return Err(ApiError::bad_body(
                "This endpoint expects a JSON body, not multipart/form-data.",
            ));
        }
        let body = &self.0.request.body;
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_body(format!(
                "We could not parse the JSON body of your request: {e}."
            ))
        })?;
        match value {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(ApiError::bad_body("The JSON body must be an object.")),
        }
    }

    /// The fields of a JSON object body, or the text fields of a multipart body.
    pub fn fields(&self) -> Result<Fields, ApiError> {
        if !self.is_multipart() {
            return self.json();
        }
        let map = self
            .parts()?
            .iter()
            .filter(|p| !p.is_file())
            .map(|p| {
                let text = String::from_utf8_lossy(&p.data).into_owned();
                (p.name.clone(), Value::String(text))
            })
            .collect();
        Ok(Fields(map))
    }

    /// The parsed parts of a multipart body; other bodies are refused.
    pub fn parts(&self) -> Result<&[RecordedPart], ApiError> {
        if let Some(error) = &self.0.multipart_error {
            return Err(ApiError::bad_body(format!(
                "Invalid multipart body: {error}"
            )));
        }
        if !self.is_multipart() {
            return Err(ApiError::bad_body(
                "This endpoint expects a multipart/form-data body.",
            ));
        }
        Ok(&self.0.request.parts)
    }

    /// The uploaded files of a multipart body named one of `names`; none for JSON bodies.
    pub fn files(&self, names: &[&str]) -> Result<Vec<&RecordedPart>, ApiError> {
        if !self.is_multipart() {
            return Ok(Vec::new());
        }
        Ok(self
            .parts()?
            .iter()
            .filter(|p| p.is_file() && names.contains(&p.name.as_str()))
            .collect())
    }
}

/// Named request fields with typed access; `null` counts as absent.
#[derive(Debug, Clone, Default)]
pub struct Fields(Map<String, Value>);

impl Fields {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string field.
    pub fn str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    /// An integer field, given as a JSON integer or a numeric string.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "an integer", &Value::Number(n.clone()))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| wrong_type(name, "an integer", &Value::String(s.clone()))),
            Some(other) => Err(wrong_type(name, "an integer", other)),
        }
    }

    /// A boolean field, given as a JSON boolean or `"true"` / `"false"`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(wrong_type(name, "a boolean", other)),
        }
    }

    /// A structured field, deserialized; a string holding JSON is parsed first (multipart).
    pub fn parse<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let value = match value {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| value.clone()),
            other => other.clone(),
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| ApiError::bad_value(name, format!("Invalid '{name}': {e}.")))
    }

    /// All the fields deserialized as one structure.
    pub fn into_struct<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        serde_json::from_value(Value::Object(self.0))
            .map_err(|e| ApiError::bad_body(format!("Invalid request body: {e}.")))
    }
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::bad_value(
        name,
        format!("Invalid type for '{name}': expected {expected}, got {got}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        match value {
            Value::Object(map) => Fields(map),
            _ => Fields::default(),
        }
    }

    #[test]
    fn lenient_scalars() {
        let f = fields(json!({"a": "8", "b": 12, "c": "true", "d": null, "e": 1.5, "f": [1]}));
        assert_eq!(f.int("a").ok(), Some(Some(8)));
        assert_eq!(f.int("b").ok(), Some(Some(12)));
        assert_eq!(f.bool("c").ok(), Some(Some(true)));
        assert_eq!(f.str("d").ok(), Some(None));
        assert!(f.int("e").is_err());
        assert!(f.str("f").is_err());
        assert_eq!(f.str("zzz").ok(), Some(None));
    }

    #[test]
    fn structured_fields_accept_json_strings() {
        let f = fields(json!({"r": "{\"image_url\":\"https://x.y/z.png\"}", "n": ["a"]}));
        let r: Option<Value> = f.parse("r").expect("parses");
        assert_eq!(r, Some(json!({"image_url": "https://x.y/z.png"})));
        let n: Option<Vec<String>> = f.parse("n").expect("parses");
        assert_eq!(n, Some(vec!["a".to_owned()]));
        assert!(f.parse::<Vec<u8>>("n").is_err());
    }
}
