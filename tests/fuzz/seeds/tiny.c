static volatile int sink;
__attribute__((noinline)) static int leaf(int x) { sink = x; return x * 3; }
__attribute__((noinline)) int mid(int x) { int a[4] = {x, x + 1, x + 2, x + 3}; return leaf(a[x & 3]) + 1; }
void _start(void) { for (;;) sink = mid(sink); }
