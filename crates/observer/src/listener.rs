//! The [`Listener`] trait and the small adapters around it: plain closures,
//! `Arc<T>`, a name for logs ([`named`]), async closures ([`from_async_fn`])
//! and typed closures (what [`Bus::on`](crate::Bus::on) registers).

use crate::event::{Event, EventPayload};
use crate::interest::Interest;
use async_trait::async_trait;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// Something that is told about events, one at a time, in `seq` order, never
/// concurrently with itself.
///
/// Plain closures `Fn(&Event)` are listeners, and so is `Arc<L>` for any
/// listener `L` (also `Arc<dyn Listener>`).
///
/// ```
/// use linesman_observer::{async_trait, Event, Interest, Listener};
///
/// struct Audit;
///
/// #[async_trait]
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
#[async_trait]
pub trait Listener: Send + Sync + 'static {
    /// Handles one event. The next event is not delivered before this returns.
    /// A panic is caught and logged; see [`BusOptions::max_panics`](crate::BusOptions::max_panics).
    async fn on_event(&self, event: &Event);

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

#[async_trait]
impl<F> Listener for F
where
    F: Fn(&Event) + Send + Sync + 'static,
{
    async fn on_event(&self, event: &Event) {
        self(event)
    }
}

#[async_trait]
impl<L: Listener + ?Sized> Listener for Arc<L> {
    async fn on_event(&self, event: &Event) {
        (**self).on_event(event).await
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn interest(&self) -> Interest {
        (**self).interest()
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

#[async_trait]
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

#[async_trait]
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

#[async_trait]
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
