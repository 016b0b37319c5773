//! SIGINT and SIGTERM end a command cleanly: exit status 130 or 143, every
//! output file complete or absent, a study resumable.
//!
//! Both signals are blocked in every thread (the mask is inherited by
//! threads started later, LibTorch's included) and received by one thread
//! with `sigwait`, so nothing runs in signal-handler context. That thread
//! sets the process-wide interrupt (`slfsim::cancel`): the event loop stops
//! at its next event, training and fine-tuning at their next step, a study
//! before its next run, and no file is left half-written because every
//! output is written atomically. If the command has not ended `GRACE`
//! after the signal, or a second signal comes, the process ends at once
//! with the same status (a temp file `.slfsim-tmp-*` may then remain).

use std::time::Duration;

const GRACE: Duration = Duration::from_secs(30);

/// The conventional exit status of a process ended by signal `sig`.
pub fn status(sig: i32) -> i32 {
    128 + sig
}

pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// Blocks SIGINT and SIGTERM and starts the thread that receives them. Call
/// before any other thread starts.
pub fn install() {
    // SAFETY: plain calls on a local, zero-initialised sigset_t.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let spawned = std::thread::Builder::new().name("slfsim-signals".into()).spawn(move || loop {
        let mut sig = 0;
        // SAFETY: `set` and `sig` are valid for the call.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            continue;
        }
        if let Some(first) = slfsim::cancel::interrupted() {
            // A second signal: stop now.
            // SAFETY: _exit ends the process without running anything else.
            unsafe { libc::_exit(status(first)) };
        }
        slfsim::cancel::interrupt(sig);
        let _ = std::thread::Builder::new().name("slfsim-grace".into()).spawn(move || {
            std::thread::sleep(GRACE);
            // SAFETY: as above.
            unsafe { libc::_exit(status(sig)) };
        });
    });
    if spawned.is_err() {
        // Without the receiving thread, leave the default behaviour (die by the signal).
        // SAFETY: as above, unblocking what was blocked.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
}
