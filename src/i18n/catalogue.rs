//! The message catalogue: the Fluent files of `locales/` (one a language,
//! named by its tag: `en.ftl`, `zh.ftl`, `zh-TW.ftl`), compiled into the
//! library. A message is looked up in its language's file, then in the
//! files that language falls back to: `zh-TW` → `zh` → `en` (the base).
//! Texts carry no Unicode isolation marks around the values they name.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/locales.rs"));
}

/// The language every message is written in first, and the last fallback.
pub const BASE: &str = "en";

/// A value a message names (`{ $limit }`): text, or a number (numbers
/// choose plural forms and are written as Rust writes them: `20`, `2.5`).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Number(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Arg::Text(Cow::Owned(text))
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Arg::Number(n as f64)
            }
        }
    )*};
}
number_arg!(u8, u16, u32, u64, usize, i32, i64);

/// One catalogue file, read.
struct Locale {
    tag: &'static str,
    source: &'static str,
    bundle: FluentBundle<FluentResource>,
    /// What was wrong with the file (a syntax error, a message twice).
    problems: Vec<String>,
}

impl Locale {
    fn read(tag: &'static str, source: &'static str) -> Locale {
        let mut problems = Vec::new();
        let resource =
            FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, errors)| {
                problems.extend(errors.iter().map(|e| format!("{tag}.ftl: {e:?}")));
                partial
            });
        let language = tag.parse::<LanguageIdentifier>().unwrap_or_else(|_| {
            problems.push(format!("{tag}.ftl: the file name is not a language tag"));
            LanguageIdentifier::default()
        });
        let mut bundle = FluentBundle::new_concurrent(vec![language]);
        // Chat texts must not carry FSI/PDI marks around placeables.
        bundle.set_use_isolating(false);
        if let Err(errors) = bundle.add_resource(resource) {
            problems.extend(errors.iter().map(|e| format!("{tag}.ftl: {e}")));
        }
        Locale {
            tag,
            source,
            bundle,
            problems,
        }
    }
}

static CATALOGUE: LazyLock<Vec<Locale>> = LazyLock::new(|| {
    let locales: Vec<Locale> = embedded::FILES
        .iter()
        .map(|(tag, source)| Locale::read(tag, source))
        .collect();
    for locale in &locales {
        for problem in &locale.problems {
            tracing::error!(%problem, "a catalogue file is broken");
        }
    }
    locales
});

fn locale(tag: &str) -> Option<&'static Locale> {
    CATALOGUE.iter().find(|l| l.tag.eq_ignore_ascii_case(tag))
}

/// The language tags of the catalogue's files, in order.
pub fn tags() -> Vec<&'static str> {
    CATALOGUE.iter().map(|l| l.tag).collect()
}

/// Whether the catalogue has a file for `tag`.
pub fn has_language(tag: &str) -> bool {
    locale(tag).is_some()
}

/// The tags a message of `tag` is looked up in, most specific first:
/// `zh-TW`, `zh`, `en`.
pub fn fallbacks(tag: &str) -> Vec<&str> {
    let mut chain = vec![tag];
    let mut rest = tag;
    while let Some((parent, _)) = rest.rsplit_once('-') {
        chain.push(parent);
        rest = parent;
    }
    if !chain.iter().any(|t| t.eq_ignore_ascii_case(BASE)) {
        chain.push(BASE);
    }
    chain
}

/// The message `id` in `tag` (or the first of its fallbacks that has it),
/// with `args`. A message missing everywhere reads as its id; problems are
/// logged.
pub fn text(tag: &str, id: &str, args: &[(&str, Arg)]) -> String {
    let mut problems = Vec::new();
    let text = lookup(tag, id, args, &mut problems);
    for problem in problems {
        tracing::warn!(%problem, "a catalogue message did not render cleanly");
    }
    text
}

/// Like [`text`], noting what went wrong (a missing message or value).
pub(crate) fn lookup(
    tag: &str,
    id: &str,
    args: &[(&str, Arg)],
    problems: &mut Vec<String>,
) -> String {
    for candidate in fallbacks(tag) {
        let Some(locale) = locale(candidate) else {
            continue;
        };
        let Some(pattern) = locale.bundle.get_message(id).and_then(|m| m.value()) else {
            continue;
        };
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.as_ref()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = locale
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        problems.extend(
            errors
                .iter()
                .map(|e| format!("{}.ftl {id}: {e}", locale.tag)),
        );
        return text.into_owned();
    }
    problems.push(format!("no message {id} for {tag} or its fallbacks"));
    id.to_owned()
}

/// The ids of the messages in `tag`'s own file (not its fallbacks).
pub fn ids(tag: &str) -> Vec<&'static str> {
    messages(tag).map(|m| m.id.name).collect()
}

/// The values (`$name`) the message `id` of `tag`'s own file names.
pub fn variables(tag: &str, id: &str) -> BTreeSet<&'static str> {
    let mut names = BTreeSet::new();
    if let Some(message) = messages(tag).find(|m| m.id.name == id) {
        if let Some(pattern) = &message.value {
            pattern_variables(pattern, &mut names);
        }
    }
    names
}

/// What is wrong with the files: syntax errors, messages given twice,
/// messages without a value, file names that are no language tags.
pub fn problems() -> Vec<String> {
    let mut all: Vec<String> = CATALOGUE.iter().flat_map(|l| l.problems.clone()).collect();
    for locale in CATALOGUE.iter() {
        for message in messages(locale.tag) {
            if message.value.is_none() {
                all.push(format!("{}.ftl {}: no text", locale.tag, message.id.name));
            }
        }
    }
    all
}

/// The text of `tag`'s own file, for checks on what its messages say.
pub fn source(tag: &str) -> Option<&'static str> {
    locale(tag).map(|l| l.source)
}

fn messages(tag: &str) -> impl Iterator<Item = ast::Message<&'static str>> {
    let source = locale(tag).map_or("", |l| l.source);
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(resource) => resource,
        Err((partial, _)) => partial,
    };
    resource.body.into_iter().filter_map(|entry| match entry {
        ast::Entry::Message(message) => Some(message),
        _ => None,
    })
}

fn pattern_variables(pattern: &ast::Pattern<&'static str>, names: &mut BTreeSet<&'static str>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, names);
        }
    }
}

fn expression_variables(
    expression: &ast::Expression<&'static str>,
    names: &mut BTreeSet<&'static str>,
) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, names);
            for variant in variants {
                pattern_variables(&variant.value, names);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, names),
    }
}

fn inline_variables(
    inline: &ast::InlineExpression<&'static str>,
    names: &mut BTreeSet<&'static str>,
) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            names.insert(id.name);
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, names),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, names);
            }
            for named in &arguments.named {
                inline_variables(&named.value, names);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regional_language_falls_back_to_its_language_then_the_base() {
        assert_eq!(fallbacks("zh-TW"), ["zh-TW", "zh", "en"]);
        assert_eq!(fallbacks("en"), ["en"]);
        assert_eq!(fallbacks("ja"), ["ja", "en"]);
    }

    #[test]
    fn values_are_put_in_without_isolation_marks() {
        let text = text("en", "no-such-job", &[("job", "7QK3M2XD".into())]);
        assert_eq!(text, "I can't find job 7QK3M2XD. /tasks lists your jobs.");
        assert!(!text.contains(['\u{2068}', '\u{2069}']));
    }

    #[test]
    fn blank_lines_and_edge_spaces_are_kept_where_written() {
        let welcome = text("en", "welcome", &[("commands", "LIST".into())]);
        assert!(welcome.ends_with("--ar 16:9\n\nLIST"), "{welcome:?}");
        assert_eq!(text("en", "character-saving", &[]), " (saving…)");
    }

    #[test]
    fn a_regional_file_takes_the_rest_from_its_language() {
        assert_eq!(text("zh-TW", "discord-command-video", &[]), "影片");
        assert_eq!(
            text("zh-TW", "state-delivered", &[]),
            text("zh", "state-delivered", &[])
        );
    }

    #[test]
    fn a_missing_message_or_value_is_a_problem_not_a_panic() {
        let mut problems = Vec::new();
        assert_eq!(
            lookup("en", "no-such-message", &[], &mut problems),
            "no-such-message"
        );
        lookup("en", "no-such-job", &[], &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn numbers_are_written_plainly() {
        let text = text("en", "too-many-active", &[("max", 1000u32.into())]);
        assert!(text.starts_with("You already have 1000 jobs"), "{text}");
    }
}
