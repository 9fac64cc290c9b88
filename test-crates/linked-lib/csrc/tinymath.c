/* A tiny C shared library, so the extension has a DT_NEEDED on a non-system library. */
#include "tinymath.h"

long tinymath_add(long a, long b) { return a + b; }

long tinymath_mul(long a, long b) { return a * b; }

const char *tinymath_version(void) { return "tinymath 1.2"; }
