//! `linesman check` for editors and CI: the file as `-c FILE` or as the
//! argument, `--format short` (one line per problem) and `--format json`
//! (one document), every problem in both, the exit codes of the human
//! report.

use linesman_testkit::TempDir;
use serde_json::{Value, json};

use crate::cli_harness::{path, run};

/// Three problems: a missing endpoint, an unknown key, an unknown
/// dependency.
const BAD: &str = "\
connections:
  quotes:
    endpoint: tcp://127.0.0.1:7001
  audit:
    endpiont: tcp://127.0.0.1:7004
    depends_on: [qoutes]
";

const CYCLE: &str = "\
connections:
  a:
    endpoint: tcp://127.0.0.1:7001
    depends_on: [b]
  b:
    endpoint: tcp://127.0.0.1:7002
    depends_on: [a]
";

const GOOD: &str = "connections:\n  a: { endpoint: tcp://127.0.0.1:7001 }\n";

fn file(dir: &TempDir, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).expect("write the file");
    path(&file).to_owned()
}

#[tokio::test]
async fn check_takes_the_file_with_c_or_as_the_argument_alike() {
    let dir = TempDir::new("cli-check-c").expect("temp dir");
    for (name, text, code) in [("good.yaml", GOOD, 0), ("bad.yaml", BAD, 2)] {
        let file = file(&dir, name, text);
        let plain = run(&["check", &file]).await;
        assert_eq!(plain.code, code, "{}", plain.stderr);
        for flag in ["-c", "--config"] {
            let with_c = run(&["check", flag, &file]).await;
            assert_eq!(
                (with_c.code, &with_c.stdout, &with_c.stderr),
                (plain.code, &plain.stdout, &plain.stderr),
                "check {flag} {name}"
            );
        }
    }
    let both = run(&["check", &file(&dir, "x.yaml", GOOD), "-c", "y.yaml"]).await;
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    let neither = run(&["check"]).await;
    assert_eq!(neither.code, 2, "{}", neither.stderr);
}

#[tokio::test]
async fn short_prints_one_line_per_problem_and_nothing_for_a_valid_file() {
    let dir = TempDir::new("cli-check-short").expect("temp dir");
    let bad = file(&dir, "bad.yaml", BAD);
    let ran = run(&["check", "--format", "short", &bad]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    assert_eq!(
        ran.stdout.replace(path(dir.path()), "[DIR]"),
        "[DIR]/bad.yaml:4:3: error: connection `audit` has no `endpoint` (help: add `endpoint: tcp://host:port` or `endpoint: unix:///absolute/path`)\n\
         [DIR]/bad.yaml:5:5: error: unknown key `endpiont` in `connections.audit` (help: did you mean `endpoint`?)\n\
         [DIR]/bad.yaml:6:18: error: connection `audit` depends on unknown connection `qoutes` (help: did you mean `quotes`?)\n"
    );

    let good = file(&dir, "good.yaml", GOOD);
    let ran = run(&["check", "-c", &good, "--format", "short"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr, "");

    // A problem with no place in the file has no LINE:COL.
    let missing = path(&dir.join("missing.yaml")).to_owned();
    let ran = run(&["check", "--format", "short", &missing]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stdout
            .starts_with(&format!("{missing}: error: cannot read {missing}: ")),
        "{}",
        ran.stdout
    );
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
}

#[tokio::test]
async fn json_is_one_document_with_every_field() {
    let dir = TempDir::new("cli-check-json").expect("temp dir");
    let bad = file(&dir, "bad.yaml", BAD);
    let ran = run(&["check", "--format", "json", &bad]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    let document: Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    assert_eq!(document["file"], bad.as_str());
    assert_eq!(document["valid"], false);
    let problems = document["problems"].as_array().expect("problems");
    let summary: Vec<(i64, i64, &str)> = problems
        .iter()
        .map(|p| {
            (
                p["line"].as_i64().expect("line"),
                p["column"].as_i64().expect("column"),
                p["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (4, 3, "missing_key"),
            (5, 5, "unknown_key"),
            (6, 18, "unknown_dependency")
        ]
    );
    assert_eq!(
        problems[1]["message"],
        "unknown key `endpiont` in `connections.audit`"
    );
    assert_eq!(problems[1]["help"], "did you mean `endpoint`?");
    assert_eq!(problems[1]["labels"], json!([]));

    let cycle = file(&dir, "cycle.yaml", CYCLE);
    let ran = run(&["check", "--format", "json", "-c", &cycle]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let document: Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    let problem = &document["problems"][0];
    assert_eq!(problem["kind"], "cycle");
    assert_eq!(
        problem["labels"],
        json!([
            { "line": 4, "column": 18, "text": "`a` depends on `b` here" },
            { "line": 7, "column": 18, "text": "`b` depends on `a` here" },
        ])
    );

    let good = file(&dir, "good.yaml", GOOD);
    let ran = run(&["check", "--format", "json", &good]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let document: Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    assert_eq!(
        document,
        json!({ "file": good, "valid": true, "problems": [] })
    );

    let missing = path(&dir.join("missing.yaml")).to_owned();
    let ran = run(&["check", "--format", "json", &missing]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let document: Value = serde_json::from_str(&ran.stdout).expect("one JSON document");
    let problem = &document["problems"][0];
    assert_eq!(
        (&problem["kind"], &problem["line"], &problem["column"]),
        (&json!("io"), &Value::Null, &Value::Null)
    );
}

/// The human report shows 50 problems; tools get them all.
#[tokio::test]
async fn short_and_json_give_every_problem_past_the_human_cap() {
    let dir = TempDir::new("cli-check-many").expect("temp dir");
    let mut yaml = String::from("connections:\n");
    for i in 0..120 {
        yaml.push_str(&format!(
            "  c{i}: {{ endpoint: tcp://127.0.0.1:1, bogus: 1 }}\n"
        ));
    }
    let many = file(&dir, "many.yaml", &yaml);
    let short = run(&["check", "--format", "short", &many]).await;
    assert_eq!(short.code, 2, "{}", short.stderr);
    assert_eq!(short.stdout.lines().count(), 120, "{}", short.stdout);
    let json = run(&["check", "--format", "json", &many]).await;
    let document: Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    assert_eq!(document["problems"].as_array().map(Vec::len), Some(120));
}
