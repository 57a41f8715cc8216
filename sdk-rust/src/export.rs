//! The glue between the exported `handler` interface and a [`crate::Filter`]: one
//! filter value per instance, created by `init`.

/// Exports a type implementing [`crate::Filter`] as the component's filter. Use it
/// once, in the crate root of a `cdylib` built for `wasm32-wasip2`. On other targets it
/// expands to nothing, so the same crate can be unit-tested natively.
#[macro_export]
macro_rules! export_filter {
    ($filter:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        pub struct __WeirFilterExport;

        #[cfg(target_arch = "wasm32")]
        impl $crate::__private::Guest for __WeirFilterExport {
            fn init(config: String) -> Result<$crate::__private::WirePhases, String> {
                $crate::__private::init::<$filter>(config)
            }
            fn on_request(exchange: $crate::__private::ExchangeArg<'_>) -> $crate::__private::WireOutcome {
                $crate::__private::on_request::<$filter>(exchange)
            }
            fn on_response(exchange: $crate::__private::ExchangeArg<'_>) -> $crate::__private::WireOutcome {
                $crate::__private::on_response::<$filter>(exchange)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_filter_world!(__WeirFilterExport with_types_in $crate::bindings);
    };
}

#[cfg(target_arch = "wasm32")]
pub use wasm::*;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use crate::bindings::weir::filter::types::{self as wire};
    use crate::{Config, Exchange, Filter, Outcome};
    use std::any::Any;
    use std::cell::RefCell;

    pub use crate::bindings::exports::weir::filter::handler::Guest;
    pub use wire::{Outcome as WireOutcome, Phases as WirePhases};
    pub type ExchangeArg<'a> = &'a wire::Exchange;

    thread_local! {
        // An instance runs one call at a time on one thread, and `init` runs before
        // any phase, so a phase always finds the filter here.
        static FILTER: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    pub fn init<F: Filter>(config: String) -> Result<WirePhases, String> {
        let filter = F::new(Config::from_json(config))?;
        FILTER.with(|f| *f.borrow_mut() = Some(Box::new(filter)));
        let mut phases = WirePhases::empty();
        if F::PHASES.request {
            phases |= WirePhases::REQUEST;
        }
        if F::PHASES.response {
            phases |= WirePhases::RESPONSE;
        }
        Ok(phases)
    }

    fn with_filter<F: Filter>(run: impl FnOnce(&F) -> Outcome) -> WireOutcome {
        FILTER.with(|f| {
            let slot = f.borrow();
            let filter = slot
                .as_ref()
                .and_then(|b| b.downcast_ref::<F>())
                .expect("the host calls init before any phase");
            to_wire(run(filter))
        })
    }

    pub fn on_request<F: Filter>(exchange: ExchangeArg<'_>) -> WireOutcome {
        with_filter::<F>(|f| f.on_request(&Exchange { inner: exchange }))
    }

    pub fn on_response<F: Filter>(exchange: ExchangeArg<'_>) -> WireOutcome {
        with_filter::<F>(|f| f.on_response(&Exchange { inner: exchange }))
    }

    fn to_wire(outcome: Outcome) -> WireOutcome {
        match outcome {
            Outcome::Continue => WireOutcome::Continue,
            Outcome::Result(r) => WireOutcome::Result(r),
            Outcome::Respond(r) => WireOutcome::Respond(r.into_imp()),
        }
    }
}
