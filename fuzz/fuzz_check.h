/* Invariant checks for the fuzz targets. assert() would vanish under NDEBUG (release builds
 * define it), and a broken invariant must always stop the fuzzer with a report. */
#ifndef PARSEC_FUZZ_CHECK_H
#define PARSEC_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The libFuzzer entry points; declared here because every non-static function needs a
 * prototype. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
