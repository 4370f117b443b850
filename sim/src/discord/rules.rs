//! Documented Discord rules the OpenAPI description does not encode: a bot's
//! message content is at most 2000 characters (the description allows the
//! 4000 of Nitro users), `custom_id`s are unique within a message, a
//! non-link button needs one, a message is not empty, a modal holds 1 to 5
//! rows, slash-command names are lowercase words, and localization keys are
//! Discord locales.

use serde_json::Value;

use super::schema::{spec, Violation};

/// Longest `content` of a bot's message.
pub const MAX_CONTENT: usize = 2000;

fn at(path: &[&str]) -> Vec<String> {
    path.iter().map(|p| (*p).to_owned()).collect()
}

/// Rules of a message body (create or edit, channel or webhook).
pub fn message(body: &Value, out: &mut Vec<Violation>) {
    if let Some(content) = body.get("content").and_then(Value::as_str) {
        if content.chars().count() > MAX_CONTENT {
            out.push(Violation::new(
                &at(&["content"]),
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_CONTENT} or fewer in length."),
            ));
        }
    }
    components(body.get("components"), &["components"], out);
}

/// Whether a message body would make an empty message.
pub fn is_empty_message(body: &Value, files: usize) -> bool {
    let non_empty = |key: &str| match body.get(key) {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(_)) => true,
        _ => false,
    };
    files == 0
        && !["content", "embeds", "components", "sticker_ids", "poll"]
            .iter()
            .any(|k| non_empty(k))
}

/// Buttons: a custom id unless a link, and no custom id twice.
fn components(rows: Option<&Value>, base: &[&str], out: &mut Vec<Violation>) {
    let Some(rows) = rows.and_then(Value::as_array) else {
        return;
    };
    let mut seen = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let items = row.get("components").and_then(Value::as_array);
        for (c, item) in items.into_iter().flatten().enumerate() {
            let (r, c) = (r.to_string(), c.to_string());
            let mut path: Vec<&str> = base.to_vec();
            path.extend([r.as_str(), "components", c.as_str()]);
            let custom_id = item.get("custom_id").and_then(Value::as_str);
            let link = item.get("style").and_then(Value::as_u64) == Some(5);
            let button = item.get("type").and_then(Value::as_u64) == Some(2);
            if button && !link && custom_id.is_none() {
                let mut p = path.clone();
                p.push("custom_id");
                out.push(Violation::new(
                    &at(&p),
                    "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                    "A custom id required",
                ));
            }
            if let Some(id) = custom_id {
                if seen.contains(&id) {
                    let mut p = path.clone();
                    p.push("custom_id");
                    out.push(Violation::new(
                        &at(&p),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    ));
                }
                seen.push(id);
            }
        }
    }
}

/// Rules of an interaction callback body.
pub fn callback(body: &Value, out: &mut Vec<Violation>) {
    let Some(data) = body.get("data").filter(|d| d.is_object()) else {
        return;
    };
    if body.get("type").and_then(Value::as_u64) == Some(9) {
        let rows = data
            .get("components")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if !(1..=5).contains(&rows) {
            out.push(Violation::new(
                &at(&["data", "components"]),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            ));
        }
        return;
    }
    let mut found = Vec::new();
    message(data, &mut found);
    for mut violation in found {
        violation.path.insert(0, "data".to_owned());
        out.push(violation);
    }
}

/// Rules of a bulk command overwrite.
pub fn commands(body: &Value, out: &mut Vec<Violation>) {
    let Some(list) = body.as_array() else {
        return;
    };
    for (i, command) in list.iter().enumerate() {
        let i = i.to_string();
        let kind = command.get("type").and_then(Value::as_u64).unwrap_or(1);
        let chat_input = kind == 1;
        names(command, &[&i], chat_input, out);
        let description = command
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if chat_input && description.is_empty() {
            out.push(Violation::new(
                &at(&[&i, "description"]),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
        if !chat_input && !description.is_empty() {
            out.push(Violation::new(
                &at(&[&i, "description"]),
                "APPLICATION_COMMAND_DESCRIPTION_NOT_ALLOWED",
                "Context menu commands cannot have description",
            ));
        }
        options(command.get("options"), &[&i, "options"], out);
    }
}

fn options(list: Option<&Value>, base: &[&str], out: &mut Vec<Violation>) {
    let Some(list) = list.and_then(Value::as_array) else {
        return;
    };
    for (i, option) in list.iter().enumerate() {
        let i = i.to_string();
        let mut path: Vec<&str> = base.to_vec();
        path.push(&i);
        names(option, &path, true, out);
        let mut nested = path.clone();
        nested.push("options");
        options(option.get("options"), &nested, out);
    }
}

/// A name (and its localizations): for slash commands and options,
/// lowercase letters, digits, `-` and `_`; keys of localizations are locales.
fn names(item: &Value, base: &[&str], lowercase_word: bool, out: &mut Vec<Violation>) {
    let check = |text: &str, path: Vec<&str>, out: &mut Vec<Violation>| {
        let word = text.chars().count() <= 32
            && text
                .chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && !text.chars().any(char::is_uppercase);
        if lowercase_word && !word {
            out.push(Violation::new(
                &at(&path),
                "APPLICATION_COMMAND_INVALID_NAME",
                format!("Command name is invalid: {text}"),
            ));
        }
    };
    if let Some(name) = item.get("name").and_then(Value::as_str) {
        let mut path = base.to_vec();
        path.push("name");
        check(name, path, out);
    }
    for key in ["name_localizations", "description_localizations"] {
        let map = item.get(key).and_then(Value::as_object);
        for (locale, text) in map.into_iter().flatten() {
            let mut path = base.to_vec();
            path.extend([key, locale.as_str()]);
            if !spec().is_locale(locale) {
                out.push(Violation::new(
                    &at(&path),
                    "BASE_TYPE_CHOICES",
                    format!("Value must be a valid locale, not {locale}."),
                ));
            } else if key == "name_localizations" {
                check(text.as_str().unwrap_or_default(), path, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_over_2000_is_refused_and_2000_is_fine() {
        let mut out = Vec::new();
        message(&json!({"content": "x".repeat(2000)}), &mut out);
        assert!(out.is_empty());
        message(&json!({"content": "x".repeat(2001)}), &mut out);
        assert_eq!(out[0].dotted(), "content");
    }

    #[test]
    fn duplicate_custom_ids_are_refused() {
        let button = json!({"type": 2, "style": 1, "label": "a", "custom_id": "same"});
        let mut out = Vec::new();
        message(
            &json!({"components": [{"type": 1, "components": [button.clone(), button]}]}),
            &mut out,
        );
        assert_eq!(out[0].code, "COMPONENT_CUSTOM_ID_DUPLICATED");
    }

    #[test]
    fn command_names_are_lowercase_words_in_any_script() {
        let mut out = Vec::new();
        commands(
            &json!([{"name": "video", "description": "d", "name_localizations": {"zh-CN": "视频"}}]),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        commands(
            &json!([{"name": "Video", "description": "d", "name_localizations": {"zh": "视频"}}]),
            &mut out,
        );
        assert_eq!(out.len(), 2, "{out:?}");
    }
}
