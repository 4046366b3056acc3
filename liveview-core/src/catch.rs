//! Panic catching for view callbacks: a panic or an `Err` in user code becomes an error
//! message, so it ends that view (or that page render) and nothing else.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use crate::view::ViewResult;

/// Runs a future, turning a panic into an error message.
pub(crate) async fn catch<F: Future>(future: F) -> Result<F::Output, String> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(panic))),
        }
    })
    .await
}

/// Runs a view callback: its error or panic becomes an error message.
pub(crate) async fn callback(future: impl Future<Output = ViewResult>) -> Result<(), String> {
    catch(future)
        .await
        .and_then(|result| result.map_err(|error| error.to_string()))
}

/// A failed callback: its message, and the page status it asked for
/// ([`ViewError::not_found`](crate::ViewError::not_found)), if any.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) status: Option<u16>,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            status: None,
        }
    }
}

/// Like [`callback`], keeping the error's page status.
pub(crate) async fn callback_status(
    future: impl Future<Output = ViewResult>,
) -> Result<(), Failure> {
    match catch(future).await? {
        Ok(()) => Ok(()),
        Err(error) => Err(Failure {
            message: error.to_string(),
            status: error.status(),
        }),
    }
}

/// Runs a synchronous callback (a render), turning a panic into an error message.
pub(crate) fn catch_sync<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(panic_message)
}

fn panic_message(panic: Box<dyn Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_and_errors_become_messages() {
        let panicked = callback(async { panic!("boom") }).await;
        assert_eq!(panicked, Err("panicked: boom".to_owned()));
        let failed = callback(async { Err(crate::ViewError::msg("nope")) }).await;
        assert_eq!(failed, Err("nope".to_owned()));
        assert_eq!(callback(async { Ok(()) }).await, Ok(()));
        assert_eq!(catch_sync(|| 7), Ok(7));
        assert!(catch_sync(|| -> u8 { panic!("{}", String::from("owned")) })
            .unwrap_err()
            .contains("owned"));
    }
}
