// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libbpfprof-heap.so: samples the allocator from inside the process (the
 * contract with the agent is heapsampler.h).
 *
 * Every allocation pays one compare and one subtract of a thread-local
 * countdown; every free pays one load of the set's filter. Everything else
 * is the cold path, taken once per sample (~ once per rate bytes).
 *
 * Reentrancy: while a wrapper is inside code that may allocate through our
 * own wrappers again (the slow path, a real operator new that calls malloc),
 * the thread's countdown is "parked" at UINT64_MAX, so nested and
 * signal-handler allocations take the fast path and are neither counted
 * twice nor sampled from inside the sampler. No extra flag is read on the
 * fast path.
 *
 * Bootstrap: dlsym() may allocate before the real allocator is known; those
 * allocations come from a small static arena whose blocks are never freed.
 * No wrapper waits for another thread's lookup (that could deadlock on the
 * loader's lock): the arena serves them meanwhile.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heapsampler/heapsampler.h"
#include "heapsampler/hs_set.h"

#define HS_EXPORT      __attribute__((visibility("default")))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#define HS_PARKED      UINT64_MAX
#define HS_ARENA_BYTES (64 * 1024)
#define HS_MAX_GAP     (1ull << 62)

/*
 * The hooks. Written in assembly so their first instruction is a one-byte
 * nop whatever the compiler's flags (an endbr64 would not be emulated by the
 * uprobe), with CFI so an unwinder started at the probe finds the caller.
 * The hidden aliases make our own calls direct, not through the PLT.
 */
// clang-format off
#define HS_HOOK(name)                                                                              \
	".globl " #name "\n.type " #name ", @function\n.p2align 4\n" #name ":\n"                  \
	".cfi_startproc\n\tnop\n\tmov %rdi, %rax\n\tret\n.cfi_endproc\n.size " #name ", .-" #name \
	"\n"
__asm__(".text\n" HS_HOOK(bpfprof_heap_alloc) HS_HOOK(bpfprof_heap_free)
	".globl hs__hook_alloc\n.hidden hs__hook_alloc\n.set hs__hook_alloc, bpfprof_heap_alloc\n"
	".globl hs__hook_free\n.hidden hs__hook_free\n.set hs__hook_free, bpfprof_heap_free\n");
// clang-format on
void *hs__hook_alloc(void *ptr, size_t size);
void *hs__hook_free(void *ptr);

HS_EXPORT struct bpfprof_heap_state bpfprof_heap_state = {
    .version = BPFPROF_HEAP_VERSION,
    .size = sizeof(struct bpfprof_heap_state),
    .set_capacity = HS_SET_CAPACITY,
};

static struct hs_set sampled_set;

struct hs_thread {
	uint64_t left; /* bytes until the next sample; 0: not seeded yet */
	uint64_t rng;  /* xorshift64* state */
};
static __thread struct hs_thread tls __attribute__((tls_model("initial-exec")));

struct hs_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	void (*free_sized)(void *, size_t);
	void (*free_aligned_sized)(void *, size_t, size_t);
	void *(*mallocx)(size_t, int);
	void *(*rallocx)(void *, size_t, int);
	void (*dallocx)(void *, int);
	void (*sdallocx)(void *, size_t, int);
};
static struct hs_real real;

/* The C++ operators, looked up again on use while missing (libstdc++ may be dlopen'ed later). */
enum hs_cxx {
	CXX_NEW,
	CXX_NEW_ARR,
	CXX_NEW_NT,
	CXX_NEW_ARR_NT,
	CXX_NEW_AL,
	CXX_NEW_ARR_AL,
	CXX_NEW_AL_NT,
	CXX_NEW_ARR_AL_NT,
	CXX_DEL,
	CXX_DEL_ARR,
	CXX_DEL_SZ,
	CXX_DEL_ARR_SZ,
	CXX_DEL_NT,
	CXX_DEL_ARR_NT,
	CXX_DEL_AL,
	CXX_DEL_ARR_AL,
	CXX_DEL_SZ_AL,
	CXX_DEL_ARR_SZ_AL,
	CXX_DEL_AL_NT,
	CXX_DEL_ARR_AL_NT,
	CXX_N,
};
static const char *const cxx_names[CXX_N] = {
    [CXX_NEW] = "_Znwm",
    [CXX_NEW_ARR] = "_Znam",
    [CXX_NEW_NT] = "_ZnwmRKSt9nothrow_t",
    [CXX_NEW_ARR_NT] = "_ZnamRKSt9nothrow_t",
    [CXX_NEW_AL] = "_ZnwmSt11align_val_t",
    [CXX_NEW_ARR_AL] = "_ZnamSt11align_val_t",
    [CXX_NEW_AL_NT] = "_ZnwmSt11align_val_tRKSt9nothrow_t",
    [CXX_NEW_ARR_AL_NT] = "_ZnamSt11align_val_tRKSt9nothrow_t",
    [CXX_DEL] = "_ZdlPv",
    [CXX_DEL_ARR] = "_ZdaPv",
    [CXX_DEL_SZ] = "_ZdlPvm",
    [CXX_DEL_ARR_SZ] = "_ZdaPvm",
    [CXX_DEL_NT] = "_ZdlPvRKSt9nothrow_t",
    [CXX_DEL_ARR_NT] = "_ZdaPvRKSt9nothrow_t",
    [CXX_DEL_AL] = "_ZdlPvSt11align_val_t",
    [CXX_DEL_ARR_AL] = "_ZdaPvSt11align_val_t",
    [CXX_DEL_SZ_AL] = "_ZdlPvmSt11align_val_t",
    [CXX_DEL_ARR_SZ_AL] = "_ZdaPvmSt11align_val_t",
    [CXX_DEL_AL_NT] = "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    [CXX_DEL_ARR_AL_NT] = "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};
static void *cxx_real[CXX_N];

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static int init_stage;
static uint64_t env_rate; /* BPFPROF_HEAP_RATE, 0 when unset or invalid */

static _Alignas(64) unsigned char arena[HS_ARENA_BYTES];
static size_t arena_used;

static inline void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* --- bootstrap -------------------------------------------------------------- */

static bool hs__in_arena(const void *p)
{
	return (uintptr_t)p - (uintptr_t)arena < HS_ARENA_BYTES;
}

/* Zeroed (never reused) memory with its size in the 8 bytes before it. */
static void *hs__arena_alloc(size_t n, size_t align)
{
	size_t off, start;

	if (align < 16)
		align = 16;
	if (n > HS_ARENA_BYTES || (align & (align - 1)) || align > HS_ARENA_BYTES / 2)
		goto nomem;
	off = __atomic_load_n(&arena_used, __ATOMIC_RELAXED);
	do {
		start = (off + 16 + align - 1) & ~(align - 1);
		if (start + n > HS_ARENA_BYTES)
			goto nomem;
	} while (!__atomic_compare_exchange_n(&arena_used, &off, start + n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	((uint64_t *)(arena + start))[-1] = n;
	stat_add(&bpfprof_heap_state.boot_allocs, 1);
	return arena + start;
nomem:
	errno = ENOMEM;
	return NULL;
}

static size_t hs__arena_size(const void *p)
{
	return ((const uint64_t *)p)[-1];
}

static uint64_t hs__parse_rate(const char *s)
{
	uint64_t v = 0;

	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

static void hs__warn(const char *msg)
{
	ssize_t rc = write(STDERR_FILENO, msg, strlen(msg));

	(void)rc;
}

static void hs__die(const char *msg)
{
	hs__warn(msg);
	abort();
}

#define RESOLVE(name) (real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name))

static void hs__resolve(void)
{
	RESOLVE(free);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(malloc_usable_size);
	RESOLVE(free_sized);
	RESOLVE(free_aligned_sized);
	RESOLVE(mallocx);
	RESOLVE(rallocx);
	RESOLVE(dallocx);
	RESOLVE(sdallocx);
	for (int i = 0; i < CXX_N; i++)
		cxx_real[i] = dlsym(RTLD_NEXT, cxx_names[i]);
	RESOLVE(malloc);
	if (!real.malloc || !real.free || !real.calloc || !real.realloc)
		hs__die("libbpfprof-heap: no malloc, free, calloc or realloc after this library\n");
}

static void hs__init(void)
{
	int expect = INIT_NONE;
	const char *env;

	if (!__atomic_compare_exchange_n(&init_stage, &expect, INIT_RUNNING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	hs__resolve();
	env = getenv(BPFPROF_HEAP_ENV_RATE);
	env_rate = hs__parse_rate(env);
	if (env && !env_rate)
		hs__warn("libbpfprof-heap: BPFPROF_HEAP_RATE must be a positive number of bytes: "
			 "ignored, sampling only with an agent\n");
	if (env_rate) {
		bpfprof_heap_state.rate = env_rate;
		bpfprof_heap_state.flags |= BPFPROF_HEAP_F_ENV;
	}
	bpfprof_heap_state.magic = BPFPROF_HEAP_MAGIC;
	__atomic_store_n(&init_stage, INIT_DONE, __ATOMIC_RELEASE);
}

/* True once the real allocator is known; false while a lookup runs (use the arena). */
__attribute__((noinline, cold)) static bool hs__boot(void)
{
	if (__atomic_load_n(&init_stage, __ATOMIC_ACQUIRE) != INIT_DONE)
		hs__init();
	return __atomic_load_n(&init_stage, __ATOMIC_ACQUIRE) == INIT_DONE;
}

__attribute__((noinline, cold)) static void *hs__cxx_resolve(enum hs_cxx i)
{
	void *f;

	if (!hs__boot())
		return NULL;
	f = dlsym(RTLD_NEXT, cxx_names[i]);
	if (f)
		__atomic_store_n(&cxx_real[i], f, __ATOMIC_RELAXED);
	return f;
}

static inline void *hs__cxx(enum hs_cxx i)
{
	void *f = __atomic_load_n(&cxx_real[i], __ATOMIC_RELAXED);

	return likely(f != NULL) ? f : hs__cxx_resolve(i);
}

/* --- fork ----------------------------------------------------------------- */

/* The child is another process: the agent has not attached to it, its samples start anew. */
static void hs__atfork_child(void)
{
	struct bpfprof_heap_state *st = &bpfprof_heap_state;

	hs_set__clear(&sampled_set);
	st->attached = 0;
	st->rate = env_rate;
	st->sampled = st->sampled_bytes = st->freed = st->set_drops = 0;
	st->unattached = st->live = 0;
	tls.left = 0;
	tls.rng = 0;
}

__attribute__((constructor)) static void hs__ctor(void)
{
	hs__boot();
	if (pthread_atfork(NULL, NULL, hs__atfork_child))
		hs__die("libbpfprof-heap: pthread_atfork failed\n");
}

/* --- sampling --------------------------------------------------------------- */

static uint64_t hs__rand(struct hs_thread *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* splitmix64 of the clock and the thread's TLS address: distinct per thread and per fork. */
static void hs__seed(struct hs_thread *t)
{
	struct timespec ts;
	uint64_t z;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	z = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	z ^= (uintptr_t)t * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	t->rng = z ? z : 1;
}

/* An exponential gap of mean rate, as the BPF side draws it: -ln(u) * R, u in (0, 1]. */
static uint64_t hs__gap(struct hs_thread *t)
{
	uint64_t r = __atomic_load_n(&bpfprof_heap_state.rate, __ATOMIC_RELAXED);
	double u, g;

	if (!r)
		r = BPFPROF_HEAP_DEFAULT_RATE;
	if (r == 1)
		return 1;
	u = (double)((hs__rand(t) >> 11) + 1) * 0x1p-53;
	g = -log(u) * (double)r + 0.5;
	if (g < 1)
		return 1;
	return g > (double)HS_MAX_GAP ? HS_MAX_GAP : (uint64_t)g;
}

/* True when p is now tracked and the hook must be called. */
static bool hs__record(void *p, size_t n)
{
	struct bpfprof_heap_state *st = &bpfprof_heap_state;

	if (!__atomic_load_n(&st->attached, __ATOMIC_RELAXED) &&
	    !(st->flags & BPFPROF_HEAP_F_ENV)) {
		stat_add(&st->unattached, 1);
		return false;
	}
	if (!hs_set__insert(&sampled_set, (uintptr_t)p)) {
		stat_add(&st->set_drops, 1);
		return false;
	}
	stat_add(&st->sampled, 1);
	stat_add(&st->sampled_bytes, n);
	__atomic_store_n(&st->live, __atomic_load_n(&sampled_set.count, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	return true;
}

/*
 * The countdown reached: Go's rule, then a new gap. The hook is the last
 * call, a tail call, as is this function's from the wrappers that can: at
 * the hook's probe the return address on the stack is then the allocating
 * call's, so the agent's stacks start where the uprobe mode's do.
 */
__attribute__((noinline, cold)) static void *hs__sample(void *p, size_t n)
{
	struct hs_thread *t = &tls;
	uint64_t left = t->left, next;
	bool hook;

	if (!p || !n)
		return p;
	t->left = HS_PARKED;
	if (!left) {
		/* First allocation of the thread: draw its first gap, then apply the rule. */
		if (!t->rng)
			hs__seed(t);
		left = hs__gap(t);
		if (n < left) {
			t->left = left - n;
			return p;
		}
	}
	next = hs__gap(t);
	hook = hs__record(p, n);
	t->left = next;
	return hook ? hs__hook_alloc(p, n) : p;
}

static inline void *hs__account(void *p, size_t n)
{
	struct hs_thread *t = &tls;

	if (likely(n < t->left)) {
		t->left -= n;
		return p;
	}
	return hs__sample(p, n);
}

__attribute__((noinline, cold)) static void hs__forget_slow(void *p)
{
	struct bpfprof_heap_state *st = &bpfprof_heap_state;

	if (!hs_set__take(&sampled_set, (uintptr_t)p))
		return;
	stat_add(&st->freed, 1);
	__atomic_store_n(&st->live, __atomic_load_n(&sampled_set.count, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	hs__hook_free(p);
}

/* Before the block goes back: once freed, its address may be sampled again by another thread. */
static inline void hs__forget(void *p)
{
	if (unlikely(hs_set__maybe(&sampled_set, (uintptr_t)p)))
		hs__forget_slow(p);
}

/* Keeps nested allocations (a real operator new calling malloc) out of the countdown. */
struct hs_park {
	uint64_t left;
};

static inline struct hs_park hs__park(void)
{
	struct hs_park k = {tls.left};

	tls.left = HS_PARKED;
	return k;
}

/* Also runs when the real operator new throws (cleanup attribute, -fexceptions). */
static inline void hs__unpark(struct hs_park *k)
{
	tls.left = k->left;
}

/* --- the C allocator ---------------------------------------------------------- */

HS_EXPORT void *malloc(size_t n)
{
	if (unlikely(!real.malloc) && !hs__boot())
		return hs__arena_alloc(n, 16);
	return hs__account(real.malloc(n), n);
}

HS_EXPORT void free(void *p)
{
	if (unlikely(hs__in_arena(p)))
		return;
	hs__forget(p);
	if (unlikely(!real.free) && !hs__boot()) {
		stat_add(&bpfprof_heap_state.boot_leaks, 1);
		return;
	}
	real.free(p);
}

HS_EXPORT void *calloc(size_t k, size_t m)
{
	size_t n;

	if (__builtin_mul_overflow(k, m, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	if (unlikely(!real.calloc) && !hs__boot())
		return hs__arena_alloc(n, 16);
	return hs__account(real.calloc(k, m), n);
}

__attribute__((noinline, cold)) static void *hs__arena_realloc(void *p, size_t n)
{
	size_t old = hs__arena_size(p);
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

HS_EXPORT void *realloc(void *p, size_t n)
{
	if (unlikely(hs__in_arena(p)))
		return hs__arena_realloc(p, n);
	/* A sampled block resized is a free and a new allocation (if realloc fails, it is lost). */
	hs__forget(p);
	if (unlikely(!real.realloc) && !hs__boot())
		return p ? NULL : hs__arena_alloc(n, 16);
	return hs__account(real.realloc(p, n), n);
}

HS_EXPORT void *reallocarray(void *p, size_t k, size_t m)
{
	size_t n;

	if (__builtin_mul_overflow(k, m, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

HS_EXPORT int posix_memalign(void **pp, size_t align, size_t n)
{
	int rc;

	if (unlikely(!real.posix_memalign) && (!hs__boot() || !real.posix_memalign)) {
		if (align < sizeof(void *) || (align & (align - 1)))
			return EINVAL;
		*pp = hs__arena_alloc(n, align);
		return *pp ? 0 : ENOMEM;
	}
	rc = real.posix_memalign(pp, align, n);
	if (!rc)
		hs__account(*pp, n);
	return rc;
}

#define HS_ALIGNED(fn, ALIGN)                                                                      \
	HS_EXPORT void *fn(size_t align, size_t n)                                                 \
	{                                                                                          \
		if (unlikely(!real.fn) && (!hs__boot() || !real.fn))                               \
			return hs__arena_alloc(n, ALIGN);                                          \
		return hs__account(real.fn(align, n), n);                                          \
	}
HS_ALIGNED(aligned_alloc, align)
HS_ALIGNED(memalign, align)

#define HS_PAGE_ALIGNED(fn)                                                                        \
	HS_EXPORT void *fn(size_t n)                                                               \
	{                                                                                          \
		if (unlikely(!real.fn) && (!hs__boot() || !real.fn))                               \
			return hs__arena_alloc(n, 4096);                                           \
		return hs__account(real.fn(n), n);                                                 \
	}
HS_PAGE_ALIGNED(valloc)
HS_PAGE_ALIGNED(pvalloc)

HS_EXPORT size_t malloc_usable_size(void *p)
{
	if (unlikely(hs__in_arena(p)))
		return hs__arena_size(p);
	if (unlikely(!real.malloc_usable_size) && (!hs__boot() || !real.malloc_usable_size))
		return 0;
	return real.malloc_usable_size(p);
}

/* C23's sized frees: glibc before 2.39 has none, then a plain free is right. */
HS_EXPORT void free_sized(void *p, size_t n)
{
	if (unlikely(hs__in_arena(p)))
		return;
	if (unlikely(!real.free_sized) && (!hs__boot() || !real.free_sized)) {
		free(p);
		return;
	}
	hs__forget(p);
	real.free_sized(p, n);
}

HS_EXPORT void free_aligned_sized(void *p, size_t align, size_t n)
{
	if (unlikely(hs__in_arena(p)))
		return;
	if (unlikely(!real.free_aligned_sized) && (!hs__boot() || !real.free_aligned_sized)) {
		free(p);
		return;
	}
	hs__forget(p);
	real.free_aligned_sized(p, align, n);
}

/* --- jemalloc's non-standard API (only called where jemalloc is loaded) ------ */

HS_EXPORT void *mallocx(size_t n, int flags)
{
	if (unlikely(!real.mallocx) && (!hs__boot() || !real.mallocx))
		return NULL;
	return hs__account(real.mallocx(n, flags), n);
}

HS_EXPORT void *rallocx(void *p, size_t n, int flags)
{
	if (unlikely(!real.rallocx) && (!hs__boot() || !real.rallocx))
		return NULL;
	hs__forget(p);
	return hs__account(real.rallocx(p, n, flags), n);
}

HS_EXPORT void dallocx(void *p, int flags)
{
	if (unlikely(!real.dallocx) && (!hs__boot() || !real.dallocx))
		return;
	hs__forget(p);
	real.dallocx(p, flags);
}

HS_EXPORT void sdallocx(void *p, size_t n, int flags)
{
	if (unlikely(!real.sdallocx) && (!hs__boot() || !real.sdallocx))
		return;
	hs__forget(p);
	real.sdallocx(p, n, flags);
}

/* --- C++ operator new and delete, by their Itanium-ABI names ------------------ */

/* No operator new after us at all: malloc, and no exception to throw from C. */
__attribute__((noinline, cold)) static void *hs__new_fallback(size_t n, size_t align, bool nothrow)
{
	void *p = NULL;

	if (align > 16) {
		if (posix_memalign(&p, align, n ? n : 1))
			p = NULL;
	} else {
		p = malloc(n ? n : 1);
	}
	if (!p && !nothrow)
		hs__die("libbpfprof-heap: operator new failed and no C++ runtime to throw\n");
	return p;
}

#define HS_NEW(sym, idx, PARAMS, ARGS, ALIGN, NOTHROW)                                             \
	HS_EXPORT void *sym PARAMS                                                                 \
	{                                                                                          \
		void *(*fn_)PARAMS = (void *(*)PARAMS)hs__cxx(idx);                                \
		void *p_;                                                                          \
		if (unlikely(!fn_))                                                                \
			return hs__new_fallback(n, ALIGN, NOTHROW);                                \
		{                                                                                  \
			struct hs_park park_ __attribute__((cleanup(hs__unpark))) = hs__park();    \
			p_ = fn_ ARGS;                                                             \
		}                                                                                  \
		return hs__account(p_, n);                                                         \
	}

#define HS_DELETE(sym, idx, PARAMS, ARGS)                                                          \
	HS_EXPORT void sym PARAMS                                                                  \
	{                                                                                          \
		void(*fn_) PARAMS = (void(*) PARAMS)hs__cxx(idx);                                  \
		if (unlikely(hs__in_arena(p)))                                                     \
			return;                                                                    \
		if (unlikely(!fn_)) {                                                              \
			free(p);                                                                   \
			return;                                                                    \
		}                                                                                  \
		hs__forget(p);                                                                     \
		fn_ ARGS;                                                                          \
	}

typedef const void *nothrow_ref;

/* Prototypes for -Wmissing-prototypes hygiene; C++ sees these under their mangled names. */
void *_Znwm(size_t n);
void *_Znam(size_t n);
void *_ZnwmRKSt9nothrow_t(size_t n, nothrow_ref nt);
void *_ZnamRKSt9nothrow_t(size_t n, nothrow_ref nt);
void *_ZnwmSt11align_val_t(size_t n, size_t al);
void *_ZnamSt11align_val_t(size_t n, size_t al);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, nothrow_ref nt);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, nothrow_ref nt);
void _ZdlPv(void *p);
void _ZdaPv(void *p);
void _ZdlPvm(void *p, size_t n);
void _ZdaPvm(void *p, size_t n);
void _ZdlPvRKSt9nothrow_t(void *p, nothrow_ref nt);
void _ZdaPvRKSt9nothrow_t(void *p, nothrow_ref nt);
void _ZdlPvSt11align_val_t(void *p, size_t al);
void _ZdaPvSt11align_val_t(void *p, size_t al);
void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al);
void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, nothrow_ref nt);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, nothrow_ref nt);

HS_NEW(_Znwm, CXX_NEW, (size_t n), (n), 0, false)
HS_NEW(_Znam, CXX_NEW_ARR, (size_t n), (n), 0, false)
HS_NEW(_ZnwmRKSt9nothrow_t, CXX_NEW_NT, (size_t n, nothrow_ref nt), (n, nt), 0, true)
HS_NEW(_ZnamRKSt9nothrow_t, CXX_NEW_ARR_NT, (size_t n, nothrow_ref nt), (n, nt), 0, true)
HS_NEW(_ZnwmSt11align_val_t, CXX_NEW_AL, (size_t n, size_t al), (n, al), al, false)
HS_NEW(_ZnamSt11align_val_t, CXX_NEW_ARR_AL, (size_t n, size_t al), (n, al), al, false)
HS_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, CXX_NEW_AL_NT, (size_t n, size_t al, nothrow_ref nt),
       (n, al, nt), al, true)
HS_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, CXX_NEW_ARR_AL_NT, (size_t n, size_t al, nothrow_ref nt),
       (n, al, nt), al, true)

HS_DELETE(_ZdlPv, CXX_DEL, (void *p), (p))
HS_DELETE(_ZdaPv, CXX_DEL_ARR, (void *p), (p))
HS_DELETE(_ZdlPvm, CXX_DEL_SZ, (void *p, size_t n), (p, n))
HS_DELETE(_ZdaPvm, CXX_DEL_ARR_SZ, (void *p, size_t n), (p, n))
HS_DELETE(_ZdlPvRKSt9nothrow_t, CXX_DEL_NT, (void *p, nothrow_ref nt), (p, nt))
HS_DELETE(_ZdaPvRKSt9nothrow_t, CXX_DEL_ARR_NT, (void *p, nothrow_ref nt), (p, nt))
HS_DELETE(_ZdlPvSt11align_val_t, CXX_DEL_AL, (void *p, size_t al), (p, al))
HS_DELETE(_ZdaPvSt11align_val_t, CXX_DEL_ARR_AL, (void *p, size_t al), (p, al))
HS_DELETE(_ZdlPvmSt11align_val_t, CXX_DEL_SZ_AL, (void *p, size_t n, size_t al), (p, n, al))
HS_DELETE(_ZdaPvmSt11align_val_t, CXX_DEL_ARR_SZ_AL, (void *p, size_t n, size_t al), (p, n, al))
HS_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, CXX_DEL_AL_NT, (void *p, size_t al, nothrow_ref nt),
	  (p, al, nt))
HS_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, CXX_DEL_ARR_AL_NT,
	  (void *p, size_t al, nothrow_ref nt), (p, al, nt))
