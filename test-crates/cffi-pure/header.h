typedef struct {
  double x;
  double y;
} Point;

int32_t cffi_pure_add(int32_t a, int32_t b);

Point cffi_pure_origin(void);

double cffi_pure_norm(Point p);
