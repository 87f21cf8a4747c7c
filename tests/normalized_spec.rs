//! The normalised document that `build.rs` feeds progenitor, compared with the committed
//! copy in `tests/expected/`: a change to `openapi.json` or to a rewrite in
//! `build/normalize.rs` shows up as a reviewable diff. After an intended change,
//! regenerate it with `GEOPERA_BLESS=1 cargo test --test normalized_spec`.

const EXPECTED: &str = "tests/expected/openapi.normalized.json";

#[test]
fn normalized_spec_matches_the_committed_copy() {
    if option_env!("GEOPERA_OPENAPI_PATH").is_some() {
        return; // built from another document: nothing to compare against
    }
    let actual = include_str!(concat!(env!("OUT_DIR"), "/normalized.json"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTED);
    if std::env::var_os("GEOPERA_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write the expected copy");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "the normalised spec changed; review the diff and run `GEOPERA_BLESS=1 cargo test --test normalized_spec`\n{}",
        first_difference(&expected, actual)
    );
}

fn first_difference(expected: &str, actual: &str) -> String {
    let line = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    format!(
        "first difference at line {}:\n- {}\n+ {}",
        line + 1,
        expected.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>")
    )
}
