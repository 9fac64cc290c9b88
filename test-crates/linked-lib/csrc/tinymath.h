#ifndef TINYMATH_H
#define TINYMATH_H
long tinymath_add(long a, long b);
long tinymath_mul(long a, long b);
const char *tinymath_version(void);
#endif
