//! The typed command tree, generated with clap's builder from the SDK's operation table
//! (`geopera::ops::OPERATIONS`): each dotted id is a path of subcommands
//! (`uploads.signed_url` is `geopera uploads signed-url`), and each top-level field of the
//! operation's body a flag (`--project-id`), typed by its JSON type, required when the
//! model requires it (unless `--body` gives the whole body), with an enum's values listed
//! in `--help`. Fields that are objects or unions take JSON text; every field is also
//! reachable through `--body JSON|@file|-`, whose keys the flags override.
//!
//! An operation whose first segment is a fixed command's name, or a field whose flag is a
//! global option's, is left out of the tree (still reachable with `geopera op`).

use clap::builder::PossibleValuesParser;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use geopera::ops::{FieldKind, FieldSpec, OPERATIONS, OperationSpec};
use serde_json::{Map, Value};

use crate::exit::Failure;

/// Names the fixed commands take, which the tree must not shadow.
const FIXED: &[&str] = &[
    "op",
    "upload",
    "download",
    "completions",
    "man",
    "dev-server",
    "login",
    "logout",
    "whoami",
    "help",
];

/// Flags that are not free for a field: the global options and `--body`.
const RESERVED_FLAGS: &[&str] = &["api-url", "profile", "json", "body", "help"];

/// The id of the `--body` argument.
const BODY: &str = "body";

/// A command or flag name from an id segment or a field: `signed_url` -> `signed-url`.
fn dashed(name: &str) -> String {
    name.replace('_', "-")
}

/// The tree before it becomes commands: a group of named children, or an operation.
enum Node {
    Group(Vec<(String, Node)>),
    Leaf(&'static OperationSpec),
}

impl Node {
    /// Inserts `op` at `path`, creating groups on the way. An id that would make a name
    /// both a group and a leaf is left out.
    fn insert(&mut self, path: &[String], op: &'static OperationSpec) {
        let (Node::Group(children), Some((name, rest))) = (self, path.split_first()) else {
            return;
        };
        match children.iter_mut().find(|(n, _)| n == name) {
            Some((_, child)) if !rest.is_empty() => child.insert(rest, op),
            Some(_) => {}
            None if rest.is_empty() => children.push((name.clone(), Node::Leaf(op))),
            None => {
                let mut child = Node::Group(Vec::new());
                child.insert(rest, op);
                children.push((name.clone(), child));
            }
        }
    }

    fn into_command(self, name: &str) -> Command {
        match self {
            Node::Leaf(op) => leaf(name, op),
            Node::Group(children) => children
                .into_iter()
                .fold(group(name), |g, (n, c)| g.subcommand(c.into_command(&n))),
        }
    }
}

/// Adds every operation of the table under `root`.
pub fn add_operations(root: Command) -> Command {
    let mut tree = Node::Group(Vec::new());
    for op in OPERATIONS {
        let segments: Vec<String> = op.id.split('.').map(dashed).collect();
        if segments
            .first()
            .is_some_and(|s| FIXED.contains(&s.as_str()))
        {
            continue;
        }
        tree.insert(&segments, op);
    }
    let Node::Group(children) = tree else {
        return root;
    };
    children.into_iter().fold(root, |root, (name, child)| {
        root.subcommand(child.into_command(&name))
    })
}

fn group(name: &str) -> Command {
    Command::new(name.to_owned())
        .about(format!("`{name}` operations"))
        .subcommand_required(true)
        .arg_required_else_help(true)
}

/// The command of one operation.
fn leaf(name: &str, op: &'static OperationSpec) -> Command {
    let mut long = format!("{}\n\nOperation `{}`", op.summary, op.id);
    if let Some(scope) = op.required_scope {
        long.push_str(&format!(", scope `{scope}`"));
    }
    long.push_str(".\nEvery flag can also be given in --body; flags override its keys.");
    let mut command = Command::new(name.to_owned())
        .about(op.summary)
        .long_about(long)
        .arg(
            Arg::new(BODY)
                .long(BODY)
                .value_name("JSON")
                .help("The whole body or a part of it: inline, @file, or - for stdin"),
        );
    for field in op.fields {
        if RESERVED_FLAGS.contains(&dashed(field.name).as_str()) {
            continue;
        }
        command = command.arg(flag(field));
    }
    command
}

/// The flag of one body field.
fn flag(field: &'static FieldSpec) -> Arg {
    let mut arg = Arg::new(field.name)
        .long(dashed(field.name))
        .help(field.description);
    if field.required {
        arg = arg.required_unless_present(BODY);
    }
    arg = match field.kind {
        FieldKind::Boolean => arg
            .value_parser(clap::value_parser!(bool))
            .num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
            .value_name("BOOL"),
        FieldKind::Integer => arg.value_parser(clap::value_parser!(i64)).value_name("N"),
        FieldKind::Number => arg
            .value_parser(clap::value_parser!(f64))
            .value_name("NUMBER"),
        FieldKind::IntegerList => arg
            .value_parser(clap::value_parser!(i64))
            .action(ArgAction::Append)
            .value_name("N"),
        FieldKind::NumberList => arg
            .value_parser(clap::value_parser!(f64))
            .action(ArgAction::Append)
            .value_name("NUMBER"),
        FieldKind::StringList => arg.action(ArgAction::Append).value_name("TEXT"),
        FieldKind::Json => arg.value_name("JSON"),
        _ => arg.value_name("TEXT"),
    };
    if !field.values.is_empty() {
        arg = arg.value_parser(PossibleValuesParser::new(field.values.iter().copied()));
    }
    arg
}

/// The operation a parsed generated command names, and its body: `None` when `matches`
/// is not a command of the tree.
pub fn resolve(matches: &ArgMatches) -> Option<Result<(&'static OperationSpec, Value), Failure>> {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name.to_owned());
        current = sub;
    }
    let op = OPERATIONS.iter().find(|op| {
        let segments: Vec<String> = op.id.split('.').map(dashed).collect();
        segments == path
    })?;
    Some(body(op, current).map(|body| (op, body)))
}

/// The JSON body from `--body` and the flags given.
fn body(op: &'static OperationSpec, matches: &ArgMatches) -> Result<Value, Failure> {
    let mut body = match matches.get_one::<String>(BODY) {
        Some(text) => match crate::op::read_json(text)? {
            Value::Object(map) => map,
            _ => {
                return Err(Failure::usage(format!(
                    "{}: --body must be a JSON object",
                    op.id
                )));
            }
        },
        None => Map::new(),
    };
    for field in op.fields {
        if RESERVED_FLAGS.contains(&dashed(field.name).as_str())
            || matches.value_source(field.name) != Some(ValueSource::CommandLine)
        {
            continue;
        }
        let value = match field.kind {
            FieldKind::Boolean => matches.get_one::<bool>(field.name).map(|b| Value::from(*b)),
            FieldKind::Integer => matches.get_one::<i64>(field.name).map(|n| Value::from(*n)),
            FieldKind::Number => matches.get_one::<f64>(field.name).map(|n| Value::from(*n)),
            FieldKind::IntegerList => matches
                .get_many::<i64>(field.name)
                .map(|v| v.copied().map(Value::from).collect()),
            FieldKind::NumberList => matches
                .get_many::<f64>(field.name)
                .map(|v| v.copied().map(Value::from).collect()),
            FieldKind::StringList => matches
                .get_many::<String>(field.name)
                .map(|v| v.cloned().map(Value::from).collect()),
            FieldKind::Json => match matches.get_one::<String>(field.name) {
                Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                    Failure::usage(format!(
                        "{}: --{} is not JSON: {e}",
                        op.id,
                        dashed(field.name)
                    ))
                })?),
                None => None,
            },
            _ => matches
                .get_one::<String>(field.name)
                .map(|s| Value::from(s.clone())),
        };
        if let Some(value) = value {
            body.insert(field.name.to_owned(), value);
        }
    }
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(&'static OperationSpec, Value), String> {
        let matches = crate::cli::command()
            .try_get_matches_from(std::iter::once("geopera").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        match resolve(&matches) {
            Some(Ok(found)) => Ok(found),
            Some(Err(f)) => Err(f.message),
            None => Err("not a generated command".into()),
        }
    }

    #[test]
    fn flags_become_the_body() {
        let (op, body) = parse(&[
            "uploads",
            "initiate",
            "--project-id",
            "prj_1",
            "--total-bytes",
            "42",
            "--is-categorical",
            "--transfer-method",
            "cli",
        ])
        .unwrap();
        assert_eq!(op.id, "uploads.initiate");
        assert_eq!(
            body,
            serde_json::json!({"project_id": "prj_1", "total_bytes": 42, "is_categorical": true, "transfer_method": "cli"})
        );
    }

    #[test]
    fn required_flags_enums_and_body() {
        let missing = parse(&["uploads", "initiate"]).unwrap_err();
        assert!(missing.contains("--project-id"), "{missing}");
        let bad = parse(&[
            "uploads",
            "initiate",
            "--project-id",
            "p",
            "--transfer-method",
            "fax",
        ])
        .unwrap_err();
        assert!(bad.contains("signed_url"), "{bad}");
        let (_, body) = parse(&[
            "uploads",
            "initiate",
            "--body",
            r#"{"project_id": "a", "file_count": 2}"#,
            "--project-id",
            "b",
        ])
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"project_id": "b", "file_count": 2})
        );
        let (op, body) =
            parse(&["uploads", "complete", "--body", r#"{"upload_id": "upl_1"}"#]).unwrap();
        assert_eq!(
            (op.id, body),
            (
                "uploads.complete",
                serde_json::json!({"upload_id": "upl_1"})
            )
        );
        assert!(parse(&["clip", "job", "downloads", "--job-id", "j"]).is_ok());
        assert!(
            parse(&["op", "--list"])
                .unwrap_err()
                .contains("not a generated")
        );
    }

    #[test]
    fn every_operation_has_a_command() {
        let root = crate::cli::command();
        for op in OPERATIONS {
            let mut at = &root;
            for segment in op.id.split('.').map(dashed) {
                at = at
                    .find_subcommand(&segment)
                    .unwrap_or_else(|| panic!("{} has no command", op.id));
            }
            assert!(at.get_arguments().any(|a| a.get_id() == BODY), "{}", op.id);
        }
    }
}
