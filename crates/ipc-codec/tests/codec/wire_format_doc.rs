//! The hex examples of docs/wire-format.md and of the crate docs, checked
//! byte for byte, so that neither can drift from the code.
//!
//! Every ```` ```hex ```` block of the page is one case below, in order: the
//! bytes must encode from (and decode to) the listed frame, or, when the block
//! has an `# error:` line, decoding them must fail with exactly that message.

use crate::support::decode_all;
use bytes::BytesMut;
use linesman_ipc_codec::{ByteOrder, Codec, Frame, FrameLayout, IdField, Replies};
use tokio_util::codec::Encoder;

const WIRE_FORMAT_MD: &str = include_str!("../../../../docs/wire-format.md");
const LIB_RS: &str = include_str!("../../src/lib.rs");

struct HexBlock {
    errors: Vec<String>,
    bytes: Vec<u8>,
}

fn parse_hex(line: &str) -> Option<Vec<u8>> {
    line.split_whitespace()
        .map(|pair| {
            (pair.len() == 2)
                .then(|| u8::from_str_radix(pair, 16).ok())
                .flatten()
        })
        .collect()
}

fn hex_blocks(markdown: &str) -> Vec<HexBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<HexBlock> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim()) {
            (None, "```hex") => {
                current = Some(HexBlock {
                    errors: vec![],
                    bytes: vec![],
                })
            }
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), text) if text.starts_with('#') => {
                if let Some(message) = text.strip_prefix("# error: ") {
                    block.errors.push(message.to_owned());
                }
            }
            (Some(block), text) => block
                .bytes
                .extend(parse_hex(text).unwrap_or_else(|| panic!("not hex: {text:?}"))),
            (None, _) => {}
        }
    }
    blocks
}

fn legacy() -> FrameLayout {
    FrameLayout::builder()
        .type_width(1)
        .length_width(2)
        .byte_order(ByteOrder::Little)
        .length_includes_header(true)
        .flags(false)
        .id(IdField::Never)
        .build()
        .expect("valid layout")
}

fn wide_type_with_ids() -> FrameLayout {
    FrameLayout::builder()
        .type_width(4)
        .length_width(2)
        .flags(false)
        .id(IdField::Always)
        .replies(Replies::ById)
        .build()
        .expect("valid layout")
}

fn counting_header() -> FrameLayout {
    FrameLayout::builder()
        .length_includes_header(true)
        .build()
        .expect("valid layout")
}

enum Case {
    Frame(FrameLayout, Frame),
    Refused(FrameLayout),
}

/// The cases of docs/wire-format.md, in the order of its hex blocks.
fn cases() -> Vec<Case> {
    let default = FrameLayout::default();
    vec![
        Case::Frame(default, Frame::new(0x0001, "hi")),
        Case::Frame(default, Frame::request(0x0102, 7, "ping")),
        Case::Frame(
            default,
            Frame::request(0x0102, 7, "ping").reply(0x0103, "pong"),
        ),
        Case::Frame(default, Frame::new(0x0005, "")),
        Case::Refused(default),
        Case::Refused(default),
        Case::Refused(default),
        Case::Frame(legacy(), Frame::new(0x10, "abc")),
        Case::Frame(wide_type_with_ids(), Frame::request(0x0102_0304, 1, "ok")),
        Case::Refused(counting_header()),
    ]
}

fn encode(layout: FrameLayout, frame: &Frame) -> Vec<u8> {
    let mut wire = BytesMut::new();
    Codec::new(layout)
        .encode(frame, &mut wire)
        .expect("the example frame fits");
    wire.to_vec()
}

#[test]
fn every_hex_example_of_the_wire_format_page_holds() {
    let blocks = hex_blocks(WIRE_FORMAT_MD);
    let cases = cases();
    assert_eq!(
        blocks.len(),
        cases.len(),
        "one case per hex block of docs/wire-format.md"
    );
    for (i, (block, case)) in blocks.iter().zip(cases).enumerate() {
        match case {
            Case::Frame(layout, frame) => {
                assert!(block.errors.is_empty(), "block {i} expects an error");
                assert_eq!(encode(layout, &frame), block.bytes, "block {i} encodes");
                let mut wire = BytesMut::from(&block.bytes[..]);
                let decoded = decode_all(&mut Codec::new(layout), &mut wire).expect("decodes");
                assert_eq!(decoded, [frame], "block {i} decodes");
            }
            Case::Refused(layout) => {
                let mut wire = BytesMut::from(&block.bytes[..]);
                let err = decode_all(&mut Codec::new(layout), &mut wire)
                    .expect_err("the example is refused");
                assert_eq!(block.errors, [err.to_string()], "block {i} error message");
            }
        }
    }
}

#[test]
fn hex_examples_of_the_crate_docs_hold() {
    // The crate docs show the first three examples of the page, bytes only.
    let lines: Vec<Vec<u8>> = LIB_RS
        .lines()
        .filter_map(|line| line.strip_prefix("//! "))
        .filter_map(parse_hex)
        .filter(|bytes| !bytes.is_empty())
        .collect();
    let default = FrameLayout::default();
    assert_eq!(
        lines,
        [
            encode(default, &Frame::new(0x0001, "hi")),
            encode(default, &Frame::request(0x0102, 7, "ping")),
            encode(
                default,
                &Frame::request(0x0102, 7, "ping").reply(0x0103, "pong")
            ),
        ]
    );
}
