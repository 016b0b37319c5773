#![no_main]
// See slfsim::fuzzing::study_text.
libfuzzer_sys::fuzz_target!(|data: &[u8]| slfsim::fuzzing::study_text(data));
