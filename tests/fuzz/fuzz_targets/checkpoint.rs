#![no_main]
// See slfsim::fuzzing::checkpoint_files.
libfuzzer_sys::fuzz_target!(|data: &[u8]| slfsim::fuzzing::checkpoint_files(data));
