#![no_main]
// See slfsim::fuzzing::data_file.
libfuzzer_sys::fuzz_target!(|data: &[u8]| slfsim::fuzzing::data_file(data));
