//! Typed messages and the dispatcher: frames reach the handler of their
//! type, unknown types and undecodable payloads are typed errors.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use linesman_ipc_codec::{DispatchError, Dispatcher, Frame, Message, MessageError};

#[derive(Debug, PartialEq)]
struct Quote {
    price: u32,
}

impl Message for Quote {
    const TYPE: u32 = 0x0101;
    fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32(self.price);
    }
    fn decode(mut payload: Bytes) -> Result<Self, MessageError> {
        if payload.len() < 4 {
            return Err(MessageError::TooShort {
                ty: Self::TYPE,
                needed: 4,
                got: payload.len(),
            });
        }
        Ok(Self {
            price: payload.get_u32(),
        })
    }
}

#[derive(Debug, PartialEq)]
struct Note(String);

impl Message for Note {
    const TYPE: u32 = 0x0202;
    fn encode(&self, dst: &mut BytesMut) {
        dst.put_slice(self.0.as_bytes());
    }
    fn decode(payload: Bytes) -> Result<Self, MessageError> {
        String::from_utf8(payload.to_vec())
            .map(Note)
            .map_err(|e| MessageError::Invalid {
                ty: Self::TYPE,
                reason: e.to_string(),
            })
    }
}

#[derive(Debug, Default, PartialEq)]
struct Seen {
    prices: Vec<u32>,
    notes: Vec<String>,
}

fn dispatcher() -> Dispatcher<Seen> {
    Dispatcher::new()
        .on(|q: Quote, seen: &mut Seen| seen.prices.push(q.price))
        .on(|n: Note, seen: &mut Seen| seen.notes.push(n.0))
}

#[test]
fn frames_reach_the_handler_of_their_type_in_order() {
    let mut dispatcher = dispatcher();
    let mut seen = Seen::default();
    for frame in [
        Frame::from_message(&Quote { price: 1 }),
        Frame::from_message(&Note("a".into())),
        Frame::from_message(&Quote { price: 2 }),
    ] {
        dispatcher
            .dispatch(frame, &mut seen)
            .expect("registered type");
    }
    assert_eq!(seen.prices, [1, 2]);
    assert_eq!(seen.notes, ["a"]);
    assert!(dispatcher.handles(Quote::TYPE) && !dispatcher.handles(3));
    assert_eq!(
        format!("{dispatcher:?}"),
        "Dispatcher { types: [257, 514] }"
    );
}

#[test]
fn unknown_type_is_a_typed_error_and_calls_nothing() {
    let mut seen = Seen::default();
    let err = dispatcher()
        .dispatch(Frame::new(0x0999, "?"), &mut seen)
        .expect_err("nobody handles 0x0999");
    assert_eq!(err, DispatchError::UnknownType { ty: 0x0999 });
    assert_eq!(seen, Seen::default());
}

#[test]
fn undecodable_payload_is_a_typed_error_and_calls_nothing() {
    let mut seen = Seen::default();
    let err = dispatcher()
        .dispatch(Frame::new(Quote::TYPE, vec![0u8; 3]), &mut seen)
        .expect_err("3 bytes are not a quote");
    assert_eq!(
        err,
        DispatchError::Decode {
            ty: Quote::TYPE,
            source: MessageError::TooShort {
                ty: Quote::TYPE,
                needed: 4,
                got: 3
            },
        }
    );
    assert!(err.to_string().contains("too short"), "{err}");
    let invalid = dispatcher()
        .dispatch(Frame::new(Note::TYPE, vec![0xff]), &mut seen)
        .expect_err("0xff is not UTF-8");
    assert!(matches!(
        invalid,
        DispatchError::Decode {
            source: MessageError::Invalid { .. },
            ..
        }
    ));
    assert_eq!(seen, Seen::default());
}

#[test]
fn a_later_handler_for_the_same_type_replaces_the_earlier() {
    let mut dispatcher =
        dispatcher().on(|q: Quote, seen: &mut Seen| seen.prices.push(q.price * 10));
    let mut seen = Seen::default();
    dispatcher
        .dispatch(Frame::from_message(&Quote { price: 3 }), &mut seen)
        .expect("registered");
    assert_eq!(seen.prices, [30]);
}

#[test]
fn frame_decode_checks_the_type() {
    let frame = Frame::from_message(&Quote { price: 5 });
    assert_eq!(frame.decode::<Quote>(), Ok(Quote { price: 5 }));
    assert_eq!(
        frame.decode::<Note>(),
        Err(MessageError::WrongType {
            expected: Note::TYPE,
            got: Quote::TYPE
        })
    );
}

#[test]
fn reply_keeps_the_request_id_and_is_marked() {
    let request = Frame::request(1, 77, "q");
    assert_eq!(
        request.reply(2, "a"),
        Frame::request(2, 77, "a").with_reply(true)
    );
    assert_eq!(request.clone().without_id().id, None);
}
