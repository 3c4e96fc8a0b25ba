//! A connection's settings laid over `defaults`: [`Layers`], which finds
//! each field's value in the nearer layer that sets it, with the path of
//! that layer (so errors point at the value that caused them).

use crate::raw::RawSettings;
use crate::walk::Sp;

/// One layer of settings and the path it was written at.
pub(crate) struct Layer<'a> {
    pub(crate) settings: &'a RawSettings,
    pub(crate) path: String,
}

/// A connection's settings over `defaults`.
pub(crate) struct Layers<'a> {
    pub(crate) top: Layer<'a>,
    pub(crate) defaults: Layer<'a>,
}

impl<'a> Layers<'a> {
    /// The connection's value of a field, else the defaults', with the path
    /// of the layer it came from.
    pub(crate) fn pick<T>(
        &self,
        field: impl Fn(&'a RawSettings) -> &'a Option<Sp<T>>,
    ) -> Option<(&'a Sp<T>, &str)> {
        if let Some(v) = field(self.top.settings) {
            return Some((v, &self.top.path));
        }
        field(self.defaults.settings)
            .as_ref()
            .map(|v| (v, self.defaults.path.as_str()))
    }

    pub(crate) fn value<T: Clone + 'a>(
        &self,
        field: impl Fn(&'a RawSettings) -> &'a Option<Sp<T>>,
    ) -> Option<T> {
        self.pick(field).map(|(v, _)| v.value.clone())
    }
}
