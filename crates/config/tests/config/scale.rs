//! Large and hostile files: 10,000 and 20,000 connections of ten keys load;
//! an alias bomb, a deep nesting and a second document are refused in
//! words; a 500 KB line with a mistake in it is not echoed; no message is
//! a Debug form; no escape sequence in a file reaches the terminal.

use linesman_config::{ConfigErrorKind as Kind, ConfigErrors};
use miette::{Diagnostic, NarratableReportHandler};

use crate::{invalid, one_error, valid};

/// A file of `n` connections (plus the `hub` they depend on), each with
/// ten keys, some of them nested.
pub(crate) fn connections(n: usize) -> String {
    let mut yaml = String::with_capacity(n * 400);
    yaml.push_str("connections:\n  hub:\n    endpoint: tcp://127.0.0.1:9\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  conn-{i:05}:
    endpoint: tcp://127.0.0.1:{port}
    kind: feed
    tags: [eu, equities]
    depends_on: [hub]
    on_dependency_down: keep
    connect_timeout: 2s
    idle_timeout: 30s
    nodelay: true
    max_frame: 64KiB
    restart: {{ policy: always, backoff: {{ initial: 100ms, max: 30s }}, intensity: {{ max_restarts: 10, window: 10m }} }}
",
            port = 10_000 + i % 50_000,
        ));
    }
    yaml
}

/// Ten levels of ten aliases each: 10^9 scalars once expanded.
pub(crate) fn billion_laughs() -> String {
    let mut yaml = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        yaml.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    yaml.push_str("connections: { a: { endpoint: tcp://h:1, tags: *a9 } }\n");
    yaml
}

/// Every rendered form of `errors`: the plain listing, and miette's
/// narratable report (snippets included).
fn rendered(errors: &ConfigErrors) -> Vec<String> {
    let mut narrated = String::new();
    NarratableReportHandler::new()
        .render_report(&mut narrated, &errors.diagnostic())
        .expect("the report renders");
    vec![errors.to_string(), narrated]
}

/// No Debug form (`Nodes { nodes: 100001 }`) in what the errors say (the
/// snippets quote the file, whose flow mappings look alike).
#[track_caller]
fn assert_worded(errors: &ConfigErrors) {
    let said = errors.to_string();
    assert!(!said.contains("{ "), "a Debug form in:\n{said}");
    assert!(!said.contains(" }"), "a Debug form in:\n{said}");
}

#[test]
fn ten_thousand_connections_of_ten_keys_load() {
    let config = valid(&connections(10_000));
    assert_eq!(config.spec.connections().len(), 10_001);
}

#[test]
fn twenty_thousand_connections_of_ten_keys_load() {
    let config = valid(&connections(20_000));
    assert_eq!(config.spec.connections().len(), 20_001);
}

#[test]
fn duplicates_among_twenty_thousand_connections_point_at_their_first_declaration() {
    // Duplicates are found by a lookup per name (this file took seconds
    // when each name was compared with every name before it).
    let mut yaml = String::from("connections:\n");
    for i in 0..20_000 {
        yaml.push_str(&format!("  c{i}: {{ endpoint: tcp://127.0.0.1:9 }}\n"));
    }
    yaml.push_str("  c0: { endpoint: tcp://127.0.0.1:9 }\n");
    yaml.push_str("  c19999: { endpoint: tcp://127.0.0.1:9 }\n");
    let errors = invalid(&yaml);
    assert_eq!(errors.len(), 2, "{}", head(&errors.to_string(), 600));
    for (e, (name, first_line)) in errors.errors().iter().zip([("c0", 2), ("c19999", 20_001)]) {
        assert_eq!(e.kind, Kind::DuplicateConnection);
        assert_eq!(e.message, format!("connection `{name}` is declared twice"));
        let first = e.labels.first().expect("the first declaration is labelled");
        assert_eq!(first.location.line, first_line, "{e:?}");
    }
}

#[test]
fn a_billion_laughs_is_refused_in_words() {
    let errors = invalid(&billion_laughs());
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::Budget);
    assert!(e.location.is_some(), "{}", e.message);
    assert!(
        e.message
            .starts_with("aliases (`*name`) in the file expand to more than"),
        "{}",
        e.message
    );
    let help = e.help.as_deref().unwrap_or_default();
    assert!(help.contains("alias bomb"), "{help}");
    assert_worded(&errors);
}

#[test]
fn nesting_deeper_than_thirty_two_is_refused_in_words() {
    let deep = format!(
        "connections: {{ a: {{ endpoint: tcp://h:1, tags: {}{} }} }}\n",
        "[".repeat(40),
        "]".repeat(40)
    );
    let e = one_error(&deep);
    assert_eq!(e.kind, Kind::Budget);
    assert_eq!(
        e.message,
        "the file nests lists and mappings more than 32 deep (a configuration file may nest at most that deep)"
    );
    assert_worded(&invalid(&deep));
}

#[test]
fn a_second_document_is_refused_in_words() {
    let two = "connections: { a: { endpoint: tcp://h:1 } }\n---\nconnections: {}\n";
    let e = one_error(two);
    assert_eq!(e.kind, Kind::Budget);
    assert_eq!(
        e.message,
        "the file has more than one YAML document (a configuration file is one document)"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("remove the `---` separator and what follows it, or split the file")
    );
}

/// A line of about 500 KB with a mistake at its end.
fn long_line() -> String {
    format!(
        "connections: {{ a: {{ endpoint: tcp://h:1, kind: \"{}\", idle_timout: 5s }} }}\n",
        "x".repeat(500_000)
    )
}

#[test]
fn a_mistake_in_a_500_kb_line_is_reported_without_echoing_the_line() {
    let errors = invalid(&long_line());
    assert_eq!(errors.len(), 1, "{}", head(&errors.to_string(), 300));
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::UnknownKey);
    assert_eq!(e.location.map(|at| at.line), Some(1));
    for text in rendered(&errors) {
        assert!(
            text.len() < 2_000,
            "{} bytes:\n{}",
            text.len(),
            head(&text, 2_000)
        );
        assert!(text.contains("idle_timout"), "{text}");
    }
    // The snippet still shows the offending key, cut around it.
    let view = errors.diagnostic();
    let related: Vec<&dyn Diagnostic> = view.related().expect("related").collect();
    let label = related[0]
        .labels()
        .expect("labelled")
        .next()
        .expect("a primary label");
    let source = view.source_code().expect("a source");
    let quoted = source
        .read_span(label.inner(), 0, 0)
        .expect("the span reads");
    assert_eq!(String::from_utf8_lossy(quoted.data()), "idle_timout");
    assert_worded(&errors);
}

/// The first `n` characters of `text`, for a failure message.
fn head(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

#[test]
fn a_long_key_and_a_500_kb_value_in_messages_are_cut() {
    // A key may be 1,000 characters (the YAML limit is 1,024); a value any length.
    let key = "y".repeat(1_000);
    let value = "x".repeat(500_000);
    let errors = invalid(&format!(
        "connections: {{ a: {{ endpoint: tcp://h:1, {key}: 1, on_dependency_down: {value} }} }}\n"
    ));
    assert_eq!(errors.len(), 2, "{}", head(&errors.to_string(), 300));
    for text in rendered(&errors) {
        assert!(
            text.len() < 4_000,
            "{} bytes:\n{}",
            text.len(),
            head(&text, 4_000)
        );
    }
    for e in errors.errors() {
        assert!(
            e.message.chars().count() <= 200,
            "{}",
            head(&e.message, 300)
        );
        assert!(e.message.contains('…'), "{}", e.message);
    }
    assert!(errors.errors()[0].message.starts_with("unknown key `yyyyy"));
    assert_worded(&errors);
}

/// A temporary path for a file of this test process.
fn temp_path(what: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "linesman-config-{}-{what}.yaml",
        std::process::id()
    ))
}

#[test]
fn a_file_larger_than_16_mib_is_refused_from_its_size_unread() {
    // Sparse: 1 GiB that was never written, so reading it would be seen
    // in the time and memory of the test, and parsing it (NUL bytes) would
    // be a syntax error, not this.
    let path = temp_path("too-large");
    let file = std::fs::File::create(&path).expect("a temp file");
    file.set_len(1 << 30).expect("a sparse file");
    let loaded = linesman_config::load(&path);
    let _ = std::fs::remove_file(&path);
    let errors = loaded.expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::Io);
    assert!(
        e.message.ends_with(
            "it is 1,073,741,824 bytes, more than the 16,777,216 bytes (16 MiB) a configuration file may have"
        ),
        "{}",
        e.message
    );
    assert!(
        e.help
            .as_deref()
            .unwrap_or_default()
            .contains("split the connections"),
        "{:?}",
        e.help
    );
}

#[test]
fn a_file_or_text_of_two_million_values_is_refused_by_its_size_before_parsing() {
    // The shape a tester generated: one line per connection, until the
    // parser's 2,000,000-node limit is passed (2,100,000 nodes here).
    let mut yaml = String::from("connections:\n");
    for i in 0..2_100_000_usize / 9 {
        yaml.push_str(&format!(
            "  c{i:06}: {{ endpoint: 'tcp://127.0.0.1:{}', kind: feed, depends_on: [c{:06}] }}\n",
            1024 + i % 60_000,
            i.saturating_sub(1)
        ));
    }
    assert!(
        yaml.len() > linesman_config::MAX_FILE_BYTES,
        "{}",
        yaml.len()
    );
    let path = temp_path("two-million-values");
    std::fs::write(&path, &yaml).expect("a temp file");
    let loaded = linesman_config::load(&path);
    let _ = std::fs::remove_file(&path);
    let errors = loaded.expect_err("refused");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::Io, "{}", e.message);
    assert!(
        e.message
            .contains(&format!("it is {} bytes, more than", grouped(yaml.len()))),
        "{}",
        e.message
    );
    // The same text given to `parse` is refused the same way, unparsed.
    let errors = linesman_config::parse("big.yaml", &yaml).expect_err("refused");
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, Kind::Budget, "{}", e.message);
    assert_eq!(
        e.message,
        format!(
            "the configuration is {} bytes, more than the 16,777,216 bytes (16 MiB) a configuration may have",
            grouped(yaml.len())
        )
    );
    assert!(e.location.is_none());
}

/// `n` with commas between groups of three digits.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[test]
fn escape_sequences_in_a_file_never_reach_the_terminal() {
    // A value that YAML unescapes into ESC and C1 CSI sequences (retitle
    // the window, clear the screen), a raw ESC and BEL in the file that the
    // parser refuses, and a lone carriage return that would overwrite the
    // line shown; the last two with a line too long to show whole, so both
    // snippet paths are taken.
    let long = "x".repeat(300);
    let cases = [
        "connections:\n  a:\n    endpoint: tcp://127.0.0.1:1\n    restart: \"sometimes\\e]0;owned\\a\\e[2J\\u009b31m\"\n"
            .to_owned(),
        "connections:\n  a:\n    endpoint: \"tcp://h:1\u{1b}]0;owned\u{7}\"\n".to_owned(),
        format!("connections:\n  a:\n    endpoint: tcp://h:1\r  kind: {long}\u{1b}[2J\n"),
        format!(
            "# {long}\nconnections:\n  a:\n    endpoint: tcp://h:1\n    restart: \"no\\e[2J\"\n"
        ),
    ];
    for yaml in &cases {
        let errors = linesman_config::parse("\u{1b}[2Jplanted.yaml", yaml)
            .expect_err("each case has an error");
        for shown in rendered(&errors) {
            assert!(
                !shown.chars().any(|c| c.is_control() && c != '\n'),
                "a control character reached the output of {yaml:?}:\n{shown:?}"
            );
        }
        assert!(
            errors.to_string().starts_with("\\u{1b}[2Jplanted.yaml:"),
            "the file name is written out: {errors}"
        );
    }
    // The message says which character it was.
    let errors = linesman_config::parse("x.yaml", &cases[0]).expect_err("an unknown policy");
    assert!(
        errors
            .to_string()
            .contains("sometimes\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}31m"),
        "{errors}"
    );
}
