/* Checks shared by the C tests: count failures instead of stopping at the first. */
#ifndef CGP_TEST_CHECK_H
#define CGP_TEST_CHECK_H

#include "cgpredict.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

/* The call must fail with `status` and a message containing `fragment`. */
#define CHECK_ERROR(call, status, fragment)                                      \
    do {                                                                         \
        cgp_status got_ = (call);                                                \
        const char *msg_ = cgp_last_error_message();                             \
        if (got_ != (status) || strstr(msg_, (fragment)) == NULL) {              \
            fprintf(stderr, "%s:%d: %s: status %d, message \"%s\"; expected %d with \"%s\"\n", \
                    __FILE__, __LINE__, #call, (int)got_, msg_, (int)(status), (fragment)); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

#endif
