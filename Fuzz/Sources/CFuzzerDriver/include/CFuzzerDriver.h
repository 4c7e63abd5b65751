#pragma once
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs with their own main (SwiftPM gives every executable one, so
// libFuzzer's main cannot be used). Provided by -sanitize=fuzzer's runtime.
int LLVMFuzzerRunDriver(int *_Nonnull argc, char *_Nullable *_Nullable *_Nonnull argv,
                        int (*_Nonnull callback)(const uint8_t *_Nullable data, size_t size));
