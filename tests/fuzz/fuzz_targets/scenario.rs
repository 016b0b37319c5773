#![no_main]
// See slfsim::fuzzing::scenario_text.
libfuzzer_sys::fuzz_target!(|data: &[u8]| slfsim::fuzzing::scenario_text(data));
