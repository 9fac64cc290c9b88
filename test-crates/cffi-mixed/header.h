double cffi_mixed_mul(double a, double b);

uintptr_t cffi_mixed_strlen(const char *s);
