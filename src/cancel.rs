//! Cooperative cancellation, at the bottom of the crate so every layer can
//! ask "should I stop?" between steps.
//!
//! Two sources: a process-wide interrupt (SIGINT or SIGTERM, set by the
//! binary's signal thread) and a per-job token (a lab cancels the jobs still
//! running when a run ends at its horizon). LibTorch cannot be stopped from
//! outside, so long loops (training and fine-tuning steps) call [`check`]
//! between steps and return [`Cancelled`]; a job then ends within one step.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

/// The signal number that asked the process to stop (0: none).
static INTERRUPT: AtomicI32 = AtomicI32::new(0);

thread_local! {
    static TOKEN: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Work stopped before it finished, by a signal or because its result is no
/// longer needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Records that signal `sig` asked the process to stop (the first one wins).
pub fn interrupt(sig: i32) {
    let _ = INTERRUPT.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// The signal that asked the process to stop, if any.
pub fn interrupted() -> Option<i32> {
    match INTERRUPT.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Runs `f` with `token` as this thread's cancellation token.
pub fn with_token<R>(token: Arc<AtomicBool>, f: impl FnOnce() -> R) -> R {
    let old = TOKEN.with(|t| t.replace(Some(token)));
    // Restored even if `f` unwinds, so a pool thread never keeps a stale token.
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let old = self.0.take();
            TOKEN.with(|t| *t.borrow_mut() = old);
        }
    }
    let _restore = Restore(old);
    f()
}

/// Err if the process was interrupted or this thread's job was cancelled.
pub fn check() -> Result<(), Cancelled> {
    if interrupted().is_some() || TOKEN.with(|t| t.borrow().as_ref().is_some_and(|b| b.load(Ordering::SeqCst))) {
        Err(Cancelled)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_cancels_only_its_own_scope() {
        let token = Arc::new(AtomicBool::new(false));
        assert_eq!(check(), Ok(()));
        with_token(token.clone(), || {
            assert_eq!(check(), Ok(()));
            token.store(true, Ordering::SeqCst);
            assert_eq!(check(), Err(Cancelled));
        });
        assert_eq!(check(), Ok(()));
    }
}
