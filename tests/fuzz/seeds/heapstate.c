/* A library exporting the sampler's state object and nothing else. */
#include "heapsampler/heapsampler.h"

struct bpfprof_heap_state bpfprof_heap_state = {.magic = BPFPROF_HEAP_MAGIC};
