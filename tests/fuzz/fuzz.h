/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The entry point every fuzz target defines (libFuzzer's contract). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: run once before the first input (libFuzzer's contract; fuzz-replay calls it too). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
