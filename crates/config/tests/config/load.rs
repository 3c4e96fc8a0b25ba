//! `load`: what it refuses to read (a FIFO, a directory), without waiting
//! on it, and a relative `control.socket` taken relative to the file.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use linesman_config::{Config, ConfigErrorKind, ConfigErrors};

/// A hang guard, not a measure.
const PATIENCE: Duration = Duration::from_secs(20);

/// A fresh, empty directory of this test process.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linesman-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make a temporary directory");
    dir
}

/// `load(path)` on a thread of its own: a load that blocks fails the test
/// after [`PATIENCE`] instead of hanging it.
fn load_in_time(path: &Path) -> Result<Config, ConfigErrors> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(linesman_config::load(&path));
    });
    rx.recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("load did not return within {PATIENCE:?}"))
}

fn refused(path: &Path) -> String {
    let errors = load_in_time(path).expect_err("not a regular file");
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(errors.errors()[0].kind, ConfigErrorKind::Io);
    errors.to_string()
}

#[test]
fn a_fifo_is_refused_at_once() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("linesman.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let said = refused(&fifo);
    assert!(
        said.contains("is a FIFO (named pipe), not a regular file"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_is_refused() {
    let dir = temp_dir("dir");
    let said = refused(&dir);
    assert!(
        said.contains("is a directory, not a regular file"),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_character_device_is_refused() {
    let said = refused(Path::new("/dev/zero"));
    assert!(
        said.contains("is a character device, not a regular file"),
        "{said}"
    );
}

#[test]
fn a_relative_control_socket_is_relative_to_the_file() {
    let dir = temp_dir("relative");
    let file = dir.join("linesman.yaml");
    let yaml =
        "control: { socket: run/ctl.sock }\nconnections: { a: { endpoint: tcp://127.0.0.1:1 } }\n";
    std::fs::write(&file, yaml).expect("write the file");
    let config = load_in_time(&file).expect("valid");
    assert_eq!(config.control.socket, Some(dir.join("run/ctl.sock")));
    // parse has no file to be relative to: as written.
    let parsed = linesman_config::parse("x.yaml", yaml).expect("valid");
    assert_eq!(parsed.control.socket, Some(PathBuf::from("run/ctl.sock")));
    // An absolute path is kept.
    std::fs::write(
        &file,
        "control: { socket: /srv/ctl.sock }\nconnections: { a: { endpoint: tcp://127.0.0.1:1 } }\n",
    )
    .expect("write the file");
    let config = load_in_time(&file).expect("valid");
    assert_eq!(config.control.socket, Some(PathBuf::from("/srv/ctl.sock")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_its_first_invalid_byte() {
    let dir = temp_dir("not-utf8");
    // Line 3: `    kind: ` and `é` (two bytes, one character) before the
    // invalid byte 0xff: column 12, byte offset 13 + 5 + 10 + 2.
    let bytes = b"connections:\n  a:\n    kind: \xc3\xa9\xff\n";
    let file = dir.join("latin1.yaml");
    std::fs::write(&file, bytes).expect("write the file");
    let errors = load_in_time(&file).expect_err("not UTF-8");
    assert_eq!(errors.len(), 1, "{errors}");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, ConfigErrorKind::Syntax);
    let at = e.location.expect("located");
    assert_eq!((at.line, at.column), (3, 12), "{e:?}");
    assert_eq!(
        e.message,
        "the file is not UTF-8 text: byte 0xff at line 3, column 12 (byte offset 30) is not valid UTF-8"
    );
    assert!(
        e.help
            .as_deref()
            .is_some_and(|help| help.contains("not a binary file") && help.contains("UTF-8")),
        "{:?}",
        e.help
    );
    // Every rendering names the place.
    assert!(
        errors
            .to_string()
            .starts_with(&format!("{}:3:12: the file is not UTF-8", file.display())),
        "{errors}"
    );
}

#[test]
fn a_binary_file_is_refused_at_its_first_invalid_byte() {
    let dir = temp_dir("binary");
    let file = dir.join("program");
    // The start of an ELF header: ASCII and control bytes, then 0x80.
    std::fs::write(&file, b"\x7fELF\x02\x01\x01\x00\x00\x00\n\x00\x80\x01").expect("write");
    let errors = load_in_time(&file).expect_err("binary");
    let e = &errors.errors()[0];
    assert_eq!(e.kind, ConfigErrorKind::Syntax);
    let at = e.location.expect("located");
    assert_eq!((at.line, at.column), (2, 2), "{e:?}");
    assert!(
        e.message
            .contains("byte 0x80 at line 2, column 2 (byte offset 12)"),
        "{}",
        e.message
    );
    // The snippet's source shows the control bytes as pictures, never raw.
    assert!(
        errors
            .source()
            .text()
            .starts_with("\u{2421}ELF\u{2402}\u{2401}\u{2401}\u{2400}"),
        "{:?}",
        errors.source().text()
    );
    assert!(
        !errors
            .source()
            .text()
            .chars()
            .any(|c| c.is_control() && c != '\n'),
        "{:?}",
        errors.source().text()
    );
}
