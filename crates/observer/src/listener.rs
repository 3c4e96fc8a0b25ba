//! The [`Listener`] trait, [`DynListener`], its dyn-compatible form, and
//! the small adapters around it: plain closures, `Arc<T>`, a name for logs
//! ([`named`]), async closures ([`from_async_fn`]) and typed closures (what
//! [`Bus::on`](crate::Bus::on) registers).
//!
//! Why native `async fn` in the trait and not `async-trait`, as for the
//! connection's `Handler`: an `async-trait` method boxes its future at
//! every call, that is once per event delivered. A listener's task is
//! compiled for the listener's type and awaits its `on_event` futures in
//! place, with no allocation; only a listener chosen at run time, held as a
//! `Box<dyn DynListener>` or an `Arc<dyn DynListener>`, boxes one future
//! per event — what every listener did before.

use crate::event::{Event, EventPayload};
use crate::interest::Interest;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

/// Something that is told about events, one at a time, in `seq` order, never
/// concurrently with itself.
///
/// Implement it with an `async fn` (no macro). The future must be `Send`:
/// a listener runs on a task of its own on a multi-threaded runtime. Plain
/// closures `Fn(&Event)` are listeners, and so is `Arc<L>` for any listener
/// `L`. Where the listener is chosen at run time, box it as a
/// [`DynListener`], which every `Listener` is; `Box<dyn DynListener>` and
/// `Arc<dyn DynListener>` are listeners too.
///
/// ```
/// use linesman_observer::{Event, Interest, Listener};
///
/// struct Audit;
///
/// impl Listener for Audit {
///     async fn on_event(&self, event: &Event) {
///         println!("{event}");
///     }
///     fn name(&self) -> &str {
///         "audit"
///     }
///     fn interest(&self) -> Interest {
///         Interest::all().kind("feed")
///     }
/// }
/// ```
pub trait Listener: Send + Sync + 'static {
    /// Handles one event. The next event is not delivered before this returns.
    /// A panic is caught and logged; see [`BusOptions::max_panics`](crate::BusOptions::max_panics).
    fn on_event(&self, event: &Event) -> impl Future<Output = ()> + Send;

    /// The name used in logs, spans and [`ListenerRemoved`](crate::ListenerRemoved)
    /// events. Default: the type's name.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// The events this listener wants when registered with
    /// [`Bus::listen`](crate::Bus::listen). Default: [`Interest::all`].
    fn interest(&self) -> Interest {
        Interest::all()
    }
}

impl<F> Listener for F
where
    F: Fn(&Event) + Send + Sync + 'static,
{
    async fn on_event(&self, event: &Event) {
        self(event)
    }
}

impl<L: Listener + ?Sized> Listener for Arc<L> {
    fn on_event(&self, event: &Event) -> impl Future<Output = ()> + Send {
        (**self).on_event(event)
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn interest(&self) -> Interest {
        (**self).interest()
    }
}

/// A boxed future of a [`DynListener`] call.
pub type ListenerFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The dyn-compatible form of [`Listener`]: one boxed future per event.
/// Every `Listener` is a `DynListener`, and `Box<dyn DynListener>` and
/// `Arc<dyn DynListener>` are listeners again; implement [`Listener`], not
/// this.
///
/// ```
/// use linesman_observer::{Bus, DynListener, Event, Listener};
///
/// struct Log;
/// impl Listener for Log {
///     async fn on_event(&self, event: &Event) {
///         println!("{event}");
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Chosen at run time: both are `Box<dyn DynListener>`.
/// let verbose = std::env::var_os("VERBOSE").is_some();
/// let listener: Box<dyn DynListener> =
///     if verbose { Box::new(Log) } else { Box::new(|_: &Event| {}) };
/// let bus = Bus::default();
/// let _handle = bus.listen(listener);
/// # }
/// ```
pub trait DynListener: Send + Sync + 'static {
    /// [`Listener::on_event`], boxed.
    fn on_event<'a>(&'a self, event: &'a Event) -> ListenerFuture<'a>;

    /// [`Listener::name`].
    fn name(&self) -> &str;

    /// [`Listener::interest`].
    fn interest(&self) -> Interest;
}

impl<L: Listener> DynListener for L {
    fn on_event<'a>(&'a self, event: &'a Event) -> ListenerFuture<'a> {
        Box::pin(Listener::on_event(self, event))
    }

    fn name(&self) -> &str {
        Listener::name(self)
    }

    fn interest(&self) -> Interest {
        Listener::interest(self)
    }
}

/// `Arc<dyn DynListener>` is a listener through this impl.
impl Listener for dyn DynListener {
    async fn on_event(&self, event: &Event) {
        DynListener::on_event(self, event).await
    }
    fn name(&self) -> &str {
        DynListener::name(self)
    }
    fn interest(&self) -> Interest {
        DynListener::interest(self)
    }
}

impl Listener for Box<dyn DynListener> {
    async fn on_event(&self, event: &Event) {
        DynListener::on_event(&**self, event).await
    }
    fn name(&self) -> &str {
        DynListener::name(&**self)
    }
    fn interest(&self) -> Interest {
        DynListener::interest(&**self)
    }
}

/// A listener with a name for logs; see [`named`].
#[derive(Debug, Clone)]
pub struct Named<L> {
    name: String,
    listener: L,
}

/// Gives `listener` a name for logs, spans and removal events.
///
/// ```
/// use linesman_observer::{listener::named, Event, Listener};
/// let rules = named("rules", |event: &Event| println!("{event}"));
/// assert_eq!(rules.name(), "rules");
/// ```
pub fn named<L: Listener>(name: impl Into<String>, listener: L) -> Named<L> {
    Named {
        name: name.into(),
        listener,
    }
}

impl<L: Listener> Listener for Named<L> {
    async fn on_event(&self, event: &Event) {
        self.listener.on_event(event).await
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn interest(&self) -> Interest {
        self.listener.interest()
    }
}

/// An async closure as a listener; see [`from_async_fn`].
pub struct AsyncFn<F> {
    f: F,
}

impl<F> fmt::Debug for AsyncFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFn").finish_non_exhaustive()
    }
}

/// Makes a listener of an async closure. It is given its own copy of each
/// event, so the future it returns may keep it.
///
/// ```
/// use linesman_observer::{listener::from_async_fn, Event};
/// let listener = from_async_fn(|event: Event| async move {
///     tokio::task::yield_now().await;
///     println!("{event}");
/// });
/// # let _ = listener;
/// ```
pub fn from_async_fn<F, Fut>(f: F) -> AsyncFn<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    AsyncFn { f }
}

impl<F, Fut> Listener for AsyncFn<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    async fn on_event(&self, event: &Event) {
        (self.f)(event.clone()).await
    }
    fn name(&self) -> &str {
        std::any::type_name::<F>()
    }
}

/// A closure that is called only for events of type `T`; what
/// [`Bus::on`](crate::Bus::on) registers.
pub struct Typed<T, F> {
    f: F,
    _type: PhantomData<fn(&T)>,
}

impl<T, F> fmt::Debug for Typed<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Typed")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<T, F> Typed<T, F>
where
    T: EventPayload,
    F: Fn(&Event, &T) + Send + Sync + 'static,
{
    /// A listener that calls `f` with every event of type `T` (live or replay).
    pub fn new(f: F) -> Typed<T, F> {
        Typed {
            f,
            _type: PhantomData,
        }
    }
}

impl<T, F> Listener for Typed<T, F>
where
    T: EventPayload,
    F: Fn(&Event, &T) + Send + Sync + 'static,
{
    async fn on_event(&self, event: &Event) {
        if let Some(payload) = T::from_what(&event.what) {
            (self.f)(event, payload)
        }
    }
    fn name(&self) -> &str {
        std::any::type_name::<F>()
    }
    fn interest(&self) -> Interest {
        Interest::all().event::<T>()
    }
}
