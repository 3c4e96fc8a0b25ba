//! [`FrameLayout`]: where the fields of a frame header sit and how wide they
//! are, so that existing protocols can be spoken, not only linesman's default.
//!
//! A header is, in this order: the type field, the flags field (if any), the
//! length field, then the u64 id (if this frame carries one). A layout is
//! validated once, when built, so the codec never meets a contradictory one.

use crate::error::LayoutError;

/// Byte order of every integer in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ByteOrder {
    /// Most significant byte first (network order). The default.
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// Whether frames carry the u64 request id, and how the decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdField {
    /// The id follows the length field when flags bit 0 is set; needs the
    /// flags field. The default.
    #[default]
    Flagged,
    /// Every frame carries an id. Encoding a frame without one is refused
    /// with [`CodecError::MissingId`](crate::CodecError::MissingId).
    Always,
    /// No frame carries an id. Encoding a frame with one is refused with
    /// [`CodecError::IdNotSupported`](crate::CodecError::IdNotSupported).
    Never,
}

/// How a received frame that carries an id is told apart from a request of
/// the peer: by a mark on the wire, or by its id alone.
///
/// Both sides number their requests from 1, so ids alone collide when
/// requests go both ways: a request of the peer whose id equals one of ours
/// would be taken for our reply. [`Replies::Marked`] says on the wire which
/// frames are replies (flags bit 1, [`FLAG_REPLY`]), so only those complete
/// requests. [`Replies::ById`] is for layouts without a spare flag bit:
/// any frame whose id matches a pending request completes it, so a peer
/// must not send requests of its own while ours are pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Replies {
    /// A reply has flags bit 1 set ([`FLAG_REPLY`]); needs the flags field
    /// (unless no frame carries an id). The default.
    #[default]
    Marked,
    /// Nothing on the wire marks a reply: a frame whose id matches a pending
    /// request is its reply. A request of the peer with such an id is taken
    /// for that reply: its handler never sees it and the peer gets no answer.
    ById,
}

/// The flag bit that says a u64 id follows the length field ([`IdField::Flagged`]).
pub const FLAG_ID: u16 = 0x0001;

/// The flag bit that says this frame replies to the request with its id
/// ([`Replies::Marked`]); set by [`Frame::reply`](crate::Frame::reply).
pub const FLAG_REPLY: u16 = 0x0002;

/// Width in bytes of the id field when present.
pub const ID_LEN: usize = 8;

/// Width in bytes of the flags field when present.
pub const FLAGS_LEN: usize = 2;

/// The shape of a frame header: field widths, byte order, what the length
/// counts, whether an id is carried and how replies are told from requests.
///
/// `FrameLayout::default()` is linesman's wire format (see the crate docs):
/// u16 type, u16 flags, u32 length of the payload alone, a u64 id when flags
/// bit 0 is set, flags bit 1 on replies, all big endian. Other layouts come from
/// [`FrameLayout::builder`], which refuses the contradictory ones.
///
/// ```
/// use linesman_ipc_codec::{ByteOrder, FrameLayout, IdField};
///
/// // A legacy protocol: u8 type, u16 little-endian length counting the header, no flags, no id.
/// let layout = FrameLayout::builder()
///     .type_width(1)
///     .length_width(2)
///     .byte_order(ByteOrder::Little)
///     .length_includes_header(true)
///     .flags(false)
///     .id(IdField::Never)
///     .build()?;
/// assert_eq!(layout.header_len(false), 3);
/// assert_eq!(FrameLayout::default().header_len(true), 16);
/// # Ok::<(), linesman_ipc_codec::LayoutError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameLayout {
    type_width: u8,
    length_width: u8,
    byte_order: ByteOrder,
    length_includes_header: bool,
    flags: bool,
    id: IdField,
    replies: Replies,
}

impl Default for FrameLayout {
    fn default() -> Self {
        Self {
            type_width: 2,
            length_width: 4,
            byte_order: ByteOrder::Big,
            length_includes_header: false,
            flags: true,
            id: IdField::Flagged,
            replies: Replies::Marked,
        }
    }
}

impl FrameLayout {
    /// A builder that starts from the default layout.
    pub fn builder() -> FrameLayoutBuilder {
        FrameLayoutBuilder {
            layout: Self::default(),
        }
    }

    /// Width of the type field in bytes: 1, 2 or 4.
    pub fn type_width(&self) -> u8 {
        self.type_width
    }

    /// Width of the length field in bytes: 2 or 4.
    pub fn length_width(&self) -> u8 {
        self.length_width
    }

    /// Byte order of every header integer.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Whether the length field counts the header as well as the payload.
    pub fn length_includes_header(&self) -> bool {
        self.length_includes_header
    }

    /// Whether the header has a u16 flags field.
    pub fn has_flags(&self) -> bool {
        self.flags
    }

    /// How the id is carried.
    pub fn id(&self) -> IdField {
        self.id
    }

    /// How replies are told from the peer's requests.
    pub fn replies(&self) -> Replies {
        self.replies
    }

    /// Whether replies carry [`FLAG_REPLY`] on the wire: [`Replies::Marked`]
    /// with a flags field.
    pub fn marks_replies(&self) -> bool {
        self.flags && self.replies == Replies::Marked
    }

    /// Flag bits this layout defines; every other bit is refused when decoding.
    pub fn known_flags(&self) -> u16 {
        let id = match self.id {
            IdField::Flagged => FLAG_ID,
            IdField::Always | IdField::Never => 0,
        };
        let reply = if self.marks_replies() { FLAG_REPLY } else { 0 };
        id | reply
    }

    /// Header length up to and including the length field: the part that is
    /// read before the decoder knows whether an id follows.
    pub fn fixed_header_len(&self) -> usize {
        let flags = if self.flags { FLAGS_LEN } else { 0 };
        let always_id = if self.id == IdField::Always {
            ID_LEN
        } else {
            0
        };
        usize::from(self.type_width) + flags + usize::from(self.length_width) + always_id
    }

    /// Header length of a frame with or without an id.
    ///
    /// `has_id` only matters for [`IdField::Flagged`]: with
    /// [`IdField::Always`] every header has the id, with [`IdField::Never`] none does.
    pub fn header_len(&self, has_id: bool) -> usize {
        match self.id {
            IdField::Flagged if has_id => self.fixed_header_len() + ID_LEN,
            _ => self.fixed_header_len(),
        }
    }

    /// Largest header this layout can produce.
    pub fn max_header_len(&self) -> usize {
        self.header_len(true)
    }

    /// Largest type value the type field can carry.
    pub fn max_type(&self) -> u32 {
        max_of_width(self.type_width) as u32
    }

    /// Largest value the length field can carry.
    pub fn max_length_field(&self) -> u64 {
        max_of_width(self.length_width)
    }
}

fn max_of_width(width: u8) -> u64 {
    (1u64 << (8 * u32::from(width))) - 1
}

/// Builds a [`FrameLayout`], starting from the default layout; each setter
/// says its default. [`build`](Self::build) refuses invalid layouts.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct FrameLayoutBuilder {
    layout: FrameLayout,
}

impl FrameLayoutBuilder {
    /// Width of the type field in bytes: 1, 2 or 4. Default: 2.
    ///
    /// ```
    /// use linesman_ipc_codec::{FrameLayout, LayoutError};
    /// assert_eq!(FrameLayout::default().type_width(), 2);
    /// let layout = FrameLayout::builder().type_width(4).build()?;
    /// assert_eq!(layout.max_type(), u32::MAX);
    /// assert_eq!(
    ///     FrameLayout::builder().type_width(3).build(),
    ///     Err(LayoutError::TypeWidth { width: 3 })
    /// );
    /// # Ok::<(), LayoutError>(())
    /// ```
    pub fn type_width(mut self, width: u8) -> Self {
        self.layout.type_width = width;
        self
    }

    /// Width of the length field in bytes: 2 or 4. Default: 4.
    ///
    /// ```
    /// use linesman_ipc_codec::FrameLayout;
    /// assert_eq!(FrameLayout::default().length_width(), 4);
    /// let layout = FrameLayout::builder().length_width(2).build()?;
    /// assert_eq!(layout.max_length_field(), 65_535);
    /// # Ok::<(), linesman_ipc_codec::LayoutError>(())
    /// ```
    pub fn length_width(mut self, width: u8) -> Self {
        self.layout.length_width = width;
        self
    }

    /// Byte order of every header integer. Default: [`ByteOrder::Big`].
    ///
    /// ```
    /// use linesman_ipc_codec::{ByteOrder, FrameLayout};
    /// assert_eq!(FrameLayout::default().byte_order(), ByteOrder::Big);
    /// let layout = FrameLayout::builder().byte_order(ByteOrder::Little).build()?;
    /// assert_eq!(layout.byte_order(), ByteOrder::Little);
    /// # Ok::<(), linesman_ipc_codec::LayoutError>(())
    /// ```
    pub fn byte_order(mut self, order: ByteOrder) -> Self {
        self.layout.byte_order = order;
        self
    }

    /// Whether the length field counts the header as well as the payload.
    /// Default: `false` (the length is the payload's alone).
    ///
    /// ```
    /// use linesman_ipc_codec::FrameLayout;
    /// assert!(!FrameLayout::default().length_includes_header());
    /// let layout = FrameLayout::builder().length_includes_header(true).build()?;
    /// assert!(layout.length_includes_header());
    /// # Ok::<(), linesman_ipc_codec::LayoutError>(())
    /// ```
    pub fn length_includes_header(mut self, includes: bool) -> Self {
        self.layout.length_includes_header = includes;
        self
    }

    /// Whether the header has a u16 flags field after the type.
    /// Default: `true`. Without it, choose [`IdField::Always`] or
    /// [`IdField::Never`], and, with ids, [`Replies::ById`].
    ///
    /// ```
    /// use linesman_ipc_codec::{FrameLayout, IdField, LayoutError};
    /// assert!(FrameLayout::default().has_flags());
    /// // The default id field is `Flagged`, which needs the flags field:
    /// assert_eq!(
    ///     FrameLayout::builder().flags(false).build(),
    ///     Err(LayoutError::FlaggedIdWithoutFlags)
    /// );
    /// let layout = FrameLayout::builder().flags(false).id(IdField::Never).build()?;
    /// assert_eq!(layout.header_len(false), 6);
    /// # Ok::<(), LayoutError>(())
    /// ```
    pub fn flags(mut self, flags: bool) -> Self {
        self.layout.flags = flags;
        self
    }

    /// How the u64 id is carried. Default: [`IdField::Flagged`].
    ///
    /// ```
    /// use linesman_ipc_codec::{FrameLayout, IdField};
    /// assert_eq!(FrameLayout::default().id(), IdField::Flagged);
    /// let layout = FrameLayout::builder().id(IdField::Always).build()?;
    /// assert_eq!(layout.header_len(false), 16);
    /// # Ok::<(), linesman_ipc_codec::LayoutError>(())
    /// ```
    pub fn id(mut self, id: IdField) -> Self {
        self.layout.id = id;
        self
    }

    /// How replies are told from the peer's requests. Default:
    /// [`Replies::Marked`] (flags bit 1), which needs the flags field unless
    /// no frame carries an id; a layout without flags chooses
    /// [`Replies::ById`] explicitly, accepting that ids collide when both
    /// sides send requests.
    ///
    /// ```
    /// use linesman_ipc_codec::{FrameLayout, IdField, LayoutError, Replies};
    /// assert_eq!(FrameLayout::default().replies(), Replies::Marked);
    /// assert_eq!(FrameLayout::default().known_flags(), 0x0003);
    /// assert_eq!(
    ///     FrameLayout::builder().flags(false).id(IdField::Always).build(),
    ///     Err(LayoutError::MarkedRepliesWithoutFlags)
    /// );
    /// let layout = FrameLayout::builder()
    ///     .flags(false)
    ///     .id(IdField::Always)
    ///     .replies(Replies::ById)
    ///     .build()?;
    /// assert!(!layout.marks_replies());
    /// # Ok::<(), LayoutError>(())
    /// ```
    pub fn replies(mut self, replies: Replies) -> Self {
        self.layout.replies = replies;
        self
    }

    /// The layout, or why it cannot describe a wire format.
    pub fn build(self) -> Result<FrameLayout, LayoutError> {
        let layout = self.layout;
        if !matches!(layout.type_width, 1 | 2 | 4) {
            return Err(LayoutError::TypeWidth {
                width: layout.type_width,
            });
        }
        if !matches!(layout.length_width, 2 | 4) {
            return Err(LayoutError::LengthWidth {
                width: layout.length_width,
            });
        }
        if layout.id == IdField::Flagged && !layout.flags {
            return Err(LayoutError::FlaggedIdWithoutFlags);
        }
        if layout.replies == Replies::Marked && !layout.flags && layout.id != IdField::Never {
            return Err(LayoutError::MarkedRepliesWithoutFlags);
        }
        Ok(layout)
    }
}
