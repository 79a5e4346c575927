// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The store: windows aligned to multiples of window_s in wall-clock time.
 *
 * A window is opened by the first store__add that falls in it, even with an
 * empty slice, so a window exists for every period the agent was feeding
 * the store (a query over an idle period answers an empty profile), while
 * gaps with no store__add at all leave no windows (-ENOENT).
 *
 * Data that arrives for a time before the open window (clock stepped back)
 * is merged into the open window; with no window open it reopens the newest
 * closed one, so windows stay sorted and unique by start. This also covers
 * a restart inside the window the previous run flushed: its file is read
 * back, reopened, and rewritten with both runs' samples.
 *
 * Locking: `lock` guards every field; `add_lock` serializes the writers
 * (add, flush) so that a closed window, which only writers can free or
 * reopen, can be written to disk outside `lock` while queries keep running.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "profile/merge.h"
#include "profile/profile.h"
#include "store/store.h"
#include "writer/pprof.h"
#include "writer/pprof_read.h"
#include "util/array.h"

#define NSEC_PER_SEC  1000000000LL
#define NSEC_PER_MSEC 1000000LL

struct store_window {
	int64_t start_ns, end_ns;
	struct profile *p; /* NULL: no window */
	size_t bytes;	   /* profile__bytes at close */
};

/* A window file in the data dir, by the times in its name. */
struct store_file {
	int64_t start_ms, end_ms;
	uint64_t bytes;
};

struct store {
	pthread_mutex_t lock;
	pthread_mutex_t add_lock;
	int n_locks; /* how many of the two are initialized */
	int64_t window_ns, retention_ns;
	size_t max_bytes, max_dir_bytes;
	unsigned int max_files;
	char *data_dir;

	/* closed windows, oldest first; eviction takes from the front */
	struct store_window *ring;
	size_t n, cap;
	size_t ring_bytes;
	struct store_window open;

	/* our window files in data_dir, oldest first */
	struct store_file *files;
	size_t n_files, cap_files;
	uint64_t file_bytes;

	struct store_stats st; /* evicted, files_rotated, write_errors, loaded, load_errors,
				  files_rejected */
	size_t n_skip_logs;    /* data-dir files skipped at start-up, logged or not */
	int64_t last_add_ns; /* the open window holds data up to here, not to its end */
};

static int64_t store__align(const struct store *s, int64_t t_ns)
{
	int64_t r = t_ns % s->window_ns;

	/* floor, not truncation, for times before the epoch */
	return t_ns - (r < 0 ? r + s->window_ns : r);
}

/* ---- the ring ---- */

static int ring__insert(struct store *s, const struct store_window *w)
{
	size_t i;

	if (array__reserve((void **)&s->ring, &s->cap, s->n + 1, sizeof(*s->ring)))
		return -ENOMEM;
	/* nearly always an append: windows close in time order */
	for (i = s->n; i > 0 && s->ring[i - 1].start_ns > w->start_ns; i--)
		;
	memmove(&s->ring[i + 1], &s->ring[i], (s->n - i) * sizeof(*s->ring));
	s->ring[i] = *w;
	s->n++;
	s->ring_bytes += w->bytes;
	return 0;
}

static void ring__drop_oldest(struct store *s)
{
	profile__free(s->ring[0].p);
	s->ring_bytes -= s->ring[0].bytes;
	memmove(&s->ring[0], &s->ring[1], (s->n - 1) * sizeof(*s->ring));
	s->n--;
	s->st.evicted++;
}

static int64_t store__newest_end(const struct store *s)
{
	int64_t end = s->n ? s->ring[s->n - 1].end_ns : INT64_MIN;

	if (s->open.p && s->open.end_ns > end)
		end = s->open.end_ns;
	return end;
}

/* Age is measured from the newest window, so a stopped stream keeps its history. */
static void store__evict(struct store *s)
{
	int64_t newest = store__newest_end(s);

	while (s->n &&
	       (s->ring[0].end_ns <= newest - s->retention_ns || s->ring_bytes > s->max_bytes))
		ring__drop_oldest(s);
}

/* ---- files ---- */

static int store__path(const struct store *s, char *buf, size_t size, int64_t start_ms,
		       int64_t end_ms, const char *suffix)
{
	int n = snprintf(buf, size, "%s/window-%" PRId64 "-%" PRId64 ".pb.gz%s", s->data_dir,
			 start_ms, end_ms, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int file__cmp(const void *pa, const void *pb)
{
	const struct store_file *a = pa, *b = pb;

	if (a->start_ms != b->start_ms)
		return a->start_ms < b->start_ms ? -1 : 1;
	return (a->end_ms > b->end_ms) - (a->end_ms < b->end_ms);
}

/* Records a written file, replacing the entry of a rewritten (reopened) window. */
static int files__record(struct store *s, const struct store_file *f)
{
	size_t i;

	for (i = s->n_files; i > 0; i--) {
		struct store_file *e = &s->files[i - 1];

		if (e->start_ms == f->start_ms && e->end_ms == f->end_ms) {
			s->file_bytes += f->bytes - e->bytes;
			e->bytes = f->bytes;
			return 0;
		}
	}
	if (array__reserve((void **)&s->files, &s->cap_files, s->n_files + 1, sizeof(*s->files)))
		return -ENOMEM;
	s->files[s->n_files++] = *f;
	s->file_bytes += f->bytes;
	qsort(s->files, s->n_files, sizeof(*s->files), file__cmp);
	return 0;
}

static void files__remove(struct store *s, size_t i)
{
	s->file_bytes -= s->files[i].bytes;
	memmove(&s->files[i], &s->files[i + 1], (s->n_files - i - 1) * sizeof(*s->files));
	s->n_files--;
}

static void store__rotate(struct store *s)
{
	char path[PATH_MAX];

	while (s->n_files && (s->n_files > s->max_files || s->file_bytes > s->max_dir_bytes)) {
		const struct store_file *f = &s->files[0];

		if (!store__path(s, path, sizeof(path), f->start_ms, f->end_ms, "") &&
		    (!unlink(path) || errno == ENOENT))
			s->st.files_rotated++;
		else
			s->st.write_errors++;
		/* forget it either way, or one stuck file would block rotation forever */
		files__remove(s, 0);
	}
}

static int file__write(FILE *f, const struct profile *p, uint64_t *bytes)
{
	struct stat st;
	int err;

	err = pprof__write(p, f);
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (!err && fstat(fileno(f), &st))
		err = -errno;
	if (!err)
		*bytes = (uint64_t)st.st_size;
	return err;
}

/* Temp file + rename: a crash never leaves a torn window file behind. */
static int window__persist(const struct store *s, const struct store_window *w,
			   struct store_file *out)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f = NULL;
	int fd, err;

	out->start_ms = w->start_ns / NSEC_PER_MSEC;
	out->end_ms = w->end_ns / NSEC_PER_MSEC;
	err = store__path(s, path, sizeof(path), out->start_ms, out->end_ms, "");
	if (!err)
		err = store__path(s, tmp, sizeof(tmp), out->start_ms, out->end_ms, ".tmp");
	if (err)
		return err;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto out;
	}
	err = file__write(f, w->p, &out->bytes);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
out:
	if (err)
		unlink(tmp);
	return err;
}

/* Called with add_lock held and lock not held: w stays valid and unchanged. */
static void store__persist(struct store *s, const struct store_window *w)
{
	struct store_file f;
	int err;

	if (!s->data_dir)
		return;
	err = window__persist(s, w, &f);
	pthread_mutex_lock(&s->lock);
	if (!err)
		err = files__record(s, &f);
	if (err)
		s->st.write_errors++;
	store__rotate(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---- loading the data dir ---- */

static int dir__make(const char *path)
{
	char *copy = strdup(path), *p;
	struct stat st;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	/* like mkdir -p; components that exist are fine */
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) && errno != EEXIST)
			err = -errno;
		*p = '/';
		if (err)
			goto out;
	}
	if (mkdir(copy, 0700) && errno != EEXIST)
		err = -errno;
	else if (stat(copy, &st))
		err = -errno;
	else if (!S_ISDIR(st.st_mode))
		err = -ENOTDIR;
out:
	free(copy);
	return err;
}

/* A data dir of a million bad files must not flood the log: the rest are only counted. */
#define MAX_SKIP_LOGS 64

static void file__log_skip(struct store *s, const struct store_file *f, const char *why)
{
	if (s->n_skip_logs++ >= MAX_SKIP_LOGS)
		return;
	fprintf(stderr, "bpfprof: data dir: skipping window-%" PRId64 "-%" PRId64 ".pb.gz: %s\n",
		f->start_ms, f->end_ms, why);
}

/* Only exact "window-<start_ms>-<end_ms>.pb.gz" names are ours. */
static bool file__parse_name(const char *name, struct store_file *f)
{
	char canon[NAME_MAX + 1];
	int n = -1;

	if (sscanf(name, "window-%" SCNd64 "-%" SCNd64 ".pb.gz%n", &f->start_ms, &f->end_ms, &n) !=
		2 ||
	    n < 0 || name[n])
		return false;
	if (f->start_ms < 0 || f->end_ms <= f->start_ms || f->end_ms > INT64_MAX / NSEC_PER_MSEC)
		return false;
	/* sscanf also takes "+1" or "007": only the name we would write maps back */
	snprintf(canon, sizeof(canon), "window-%" PRId64 "-%" PRId64 ".pb.gz", f->start_ms,
		 f->end_ms);
	return !strcmp(canon, name);
}

static int store__scan_dir(struct store *s)
{
	struct store_file f;
	struct dirent *de;
	struct stat st;
	char why[128];
	int err = 0;
	DIR *dir;

	dir = opendir(s->data_dir);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!file__parse_name(de->d_name, &f) ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (!S_ISREG(st.st_mode)) {
			/* a FIFO would block a read, a symlink could point anywhere */
			file__log_skip(s, &f, "not a regular file");
			s->st.files_rejected++;
			continue;
		}
		if ((uint64_t)st.st_size > s->max_bytes) {
			/*
			 * Never readable within the ring's cap, and kept out of
			 * rotation: a sparse 1 TB file would make it delete every
			 * real window to get under max_dir_bytes.
			 */
			snprintf(why, sizeof(why), "file of %lld bytes, over the %zu-byte limit",
				 (long long)st.st_size, s->max_bytes);
			file__log_skip(s, &f, why);
			s->st.files_rejected++;
			continue;
		}
		f.bytes = (uint64_t)st.st_size;
		if (array__reserve((void **)&s->files, &s->cap_files, s->n_files + 1,
				   sizeof(*s->files))) {
			err = -ENOMEM;
			break;
		}
		s->files[s->n_files++] = f;
		s->file_bytes += f.bytes;
		/* a dir of millions of window names: rotate as we go, memory stays bounded */
		if (s->n_files >= (size_t)s->max_files * 2 + 64) {
			qsort(s->files, s->n_files, sizeof(*s->files), file__cmp);
			store__rotate(s);
		}
	}
	closedir(dir);
	if (s->n_files)
		qsort(s->files, s->n_files, sizeof(*s->files), file__cmp);
	return err;
}

/*
 * 1: loaded; 0: did not fit the memory cap; -EFBIG: over a decode cap;
 * -EINVAL etc.: unreadable (logged). The window's times come from the
 * name, which is what rotation goes by. Files may be crafted: no larger
 * than the ring may be read or inflated, nor take more to decode, and a
 * symlink or FIFO put in their place is refused without blocking.
 */
static int store__load_file(struct store *s, const struct store_file *f, size_t *decoded)
{
	struct store_window w = {.start_ns = f->start_ms * NSEC_PER_MSEC,
				 .end_ns = f->end_ms * NSEC_PER_MSEC};
	struct pprof_limits lim = {.max_raw_bytes = s->max_bytes,
				   .max_mem_bytes = s->max_bytes,
				   .no_follow = true,
				   .decoded = decoded};
	char path[PATH_MAX], why[256] = "";
	int err;

	err = store__path(s, path, sizeof(path), f->start_ms, f->end_ms, "");
	if (!err)
		err = pprof__read_file_ex(path, &lim, &w.p, why, sizeof(why));
	if (err && err != -ENOMEM)
		file__log_skip(s, f, why[0] ? why : strerror(-err));
	if (err)
		return err;
	w.bytes = profile__bytes(w.p);
	if (s->ring_bytes + w.bytes > s->max_bytes) {
		profile__free(w.p);
		return 0;
	}
	err = ring__insert(s, &w);
	if (err) {
		profile__free(w.p);
		return err;
	}
	return 1;
}

/*
 * A window ending after the next one would: not written by a store on this
 * clock. Loaded, it would make every new window look too old to keep.
 */
static bool file__from_future(const struct store *s, const struct store_file *f)
{
	struct timespec ts;
	int64_t now_ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / NSEC_PER_MSEC;
	return f->end_ms > now_ms + 2 * (s->window_ns / NSEC_PER_MSEC);
}

/* The newest file's end that is not from the future, or INT64_MIN. */
static int64_t store__newest_file(const struct store *s)
{
	size_t i;

	for (i = s->n_files; i > 0; i--) {
		if (!file__from_future(s, &s->files[i - 1]))
			return s->files[i - 1].end_ms * NSEC_PER_MSEC;
	}
	return INT64_MIN;
}

/*
 * Reading back decodes at most this many times the ring's cap in all: the
 * ring holds less than that, and 1000 bombs of the cap each would
 * otherwise cost minutes of inflating at start-up.
 */
#define LOAD_WORK_FACTOR 4

/* Newest first, while within retention of the newest file and the memory cap. */
static int store__load(struct store *s)
{
	size_t budget = s->max_bytes * LOAD_WORK_FACTOR, spent = 0, decoded;
	int64_t newest;
	size_t i;
	int ret;

	if (!s->n_files)
		return 0;
	newest = store__newest_file(s);
	for (i = s->n_files; i > 0; i--) {
		const struct store_file *f = &s->files[i - 1];

		if (spent >= budget) {
			fprintf(stderr,
				"bpfprof: data dir: read %zu bytes of windows (%dx the store's "
				"memory cap): %zu older files not read\n",
				spent, LOAD_WORK_FACTOR, i);
			break;
		}

		if (file__from_future(s, f)) {
			/* left in rotation: it may be ours from before a clock step */
			file__log_skip(s, f, "window ends in the future");
			s->st.files_rejected++;
			continue;
		}
		if (newest == INT64_MIN || f->end_ms * NSEC_PER_MSEC <= newest - s->retention_ns)
			continue;
		decoded = 0;
		ret = store__load_file(s, f, &decoded);
		spent += decoded + (size_t)f->bytes;
		if (ret == -ENOMEM)
			return ret;
		if (ret == 0)
			break;
		if (ret > 0) {
			s->st.loaded++;
			continue;
		}
		if (ret == -EFBIG) {
			/* over a cap, not corrupt: maybe ours, so rotation may still delete it */
			s->st.files_rejected++;
			continue;
		}
		/* left in place for a human to look at, and out of rotation's reach */
		s->st.load_errors++;
		files__remove(s, i - 1);
	}
	return 0;
}

/* ---- life cycle ---- */

static int store__init_opts(struct store *s, const struct store_opts *o)
{
	unsigned int window_s = o && o->window_s ? o->window_s : 10;
	unsigned int retention_s = o && o->retention_s ? o->retention_s : 900;

	s->window_ns = (int64_t)window_s * NSEC_PER_SEC;
	s->retention_ns = (int64_t)retention_s * NSEC_PER_SEC;
	s->max_bytes = o && o->max_bytes ? o->max_bytes : (size_t)64 << 20;
	s->max_files = o && o->max_files ? o->max_files : 1000;
	s->max_dir_bytes = o && o->max_dir_bytes ? o->max_dir_bytes : (size_t)256 << 20;
	if (!o || !o->data_dir)
		return 0;
	if (!o->data_dir[0] || strlen(o->data_dir) >= PATH_MAX - 64)
		return -EINVAL;
	s->data_dir = strdup(o->data_dir);
	return s->data_dir ? 0 : -ENOMEM;
}

static int store__open_dir(struct store *s)
{
	int err;

	if (!s->data_dir)
		return 0;
	err = dir__make(s->data_dir) ?: store__scan_dir(s);
	if (err)
		return err;
	store__rotate(s);
	err = store__load(s);
	if (s->n_skip_logs > MAX_SKIP_LOGS)
		fprintf(stderr, "bpfprof: data dir: %zu more files skipped (counted, not logged)\n",
			s->n_skip_logs - MAX_SKIP_LOGS);
	return err;
}

static int store__init_locks(struct store *s)
{
	int err = pthread_mutex_init(&s->lock, NULL);

	if (err)
		return -err;
	s->n_locks = 1;
	err = pthread_mutex_init(&s->add_lock, NULL);
	if (err)
		return -err;
	s->n_locks = 2;
	return 0;
}

struct store *store__new(const struct store_opts *opts)
{
	struct store *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	/* no other thread can see s yet: no locking needed while loading */
	if (s)
		err = store__init_locks(s) ?: store__init_opts(s, opts) ?: store__open_dir(s);
	if (err) {
		store__free(s);
		s = NULL;
		errno = -err;
	}
	return s;
}

void store__free(struct store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		profile__free(s->ring[i].p);
	free(s->ring);
	profile__free(s->open.p);
	free(s->files);
	free(s->data_dir);
	if (s->n_locks > 1)
		pthread_mutex_destroy(&s->add_lock);
	if (s->n_locks > 0)
		pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- adding ---- */

/* Moves the open window into the ring; *closed is set to it for persisting. */
static int store__close_open(struct store *s, struct store_window *closed)
{
	struct store_window w = s->open;
	int err;

	if (!w.p)
		return 0;
	w.bytes = profile__bytes(w.p);
	err = ring__insert(s, &w);
	if (err)
		return err;
	memset(&s->open, 0, sizeof(s->open));
	*closed = w;
	return 0;
}

static int store__open_window(struct store *s, const struct profile *slice, int64_t t_ns)
{
	int64_t start = store__align(s, t_ns);
	struct profile *p;

	if (s->n && s->ring[s->n - 1].start_ns >= start) {
		s->open = s->ring[--s->n];
		s->ring_bytes -= s->open.bytes;
		return 0;
	}
	p = profile__new_like(slice);
	if (!p)
		return -errno;
	profile__set_time(p, start, s->window_ns);
	s->open = (struct store_window){.start_ns = start, .end_ns = start + s->window_ns, .p = p};
	return 0;
}

static int store__add_locked(struct store *s, const struct profile *slice, int64_t t_ns,
			     struct store_window *closed)
{
	int err = 0;

	if (s->open.p && t_ns >= s->open.end_ns)
		err = store__close_open(s, closed);
	if (!err && !s->open.p)
		err = store__open_window(s, slice, t_ns);
	if (!err)
		err = profile__merge(s->open.p, slice, NULL);
	return err;
}

/* The I/O and eviction every writer does after changing the ring. */
static void store__after_close(struct store *s, const struct store_window *closed)
{
	if (closed->p)
		store__persist(s, closed);
	pthread_mutex_lock(&s->lock);
	store__evict(s);
	pthread_mutex_unlock(&s->lock);
}

int store__add(struct store *s, const struct profile *slice, int64_t t_ns)
{
	struct store_window closed = {0};
	int err;

	if (!s || !slice)
		return -EINVAL;
	pthread_mutex_lock(&s->add_lock);
	pthread_mutex_lock(&s->lock);
	err = store__add_locked(s, slice, t_ns, &closed);
	if (t_ns > s->last_add_ns)
		s->last_add_ns = t_ns;
	pthread_mutex_unlock(&s->lock);
	store__after_close(s, &closed);
	pthread_mutex_unlock(&s->add_lock);
	return err;
}

int store__flush(struct store *s)
{
	struct store_window closed = {0};
	int err;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->add_lock);
	pthread_mutex_lock(&s->lock);
	err = store__close_open(s, &closed);
	pthread_mutex_unlock(&s->lock);
	store__after_close(s, &closed);
	pthread_mutex_unlock(&s->add_lock);
	return err;
}

/* ---- reading ---- */

static bool window__overlaps(const struct store_window *w, int64_t from, int64_t to)
{
	return w->p && w->start_ns < to && w->end_ns > from;
}

/* The newest overlapping window sets the sample types of the answer. */
static const struct profile *store__template(const struct store *s, int64_t from, int64_t to)
{
	size_t i;

	if (window__overlaps(&s->open, from, to))
		return s->open.p;
	for (i = s->n; i > 0; i--) {
		if (window__overlaps(&s->ring[i - 1], from, to))
			return s->ring[i - 1].p;
	}
	return NULL;
}

/* -EINVAL from a merge means other sample types (a config change): skip it. */
/* The time the merged windows really cover, which is what their samples measure. */
struct query_span {
	int64_t from, to;
};

static int query__merge(struct profile *dst, const struct store_window *w, int64_t from, int64_t to,
			const struct profile_filter *f, int64_t data_end, struct query_span *span)
{
	int64_t end = w->end_ns < data_end ? w->end_ns : data_end;
	int err;

	if (!window__overlaps(w, from, to))
		return 0;
	if (!span->to || w->start_ns < span->from)
		span->from = w->start_ns;
	if (end > span->to)
		span->to = end;
	err = profile__merge(dst, w->p, f);
	return err == -EINVAL ? 0 : err;
}

static int store__query_locked(struct store *s, int64_t from, int64_t to,
			       const struct profile_filter *f, struct profile **out)
{
	const struct profile *tmpl = store__template(s, from, to);
	struct query_span span = { 0, 0 };
	struct profile *p;
	size_t i;
	int err = 0;

	if (!tmpl)
		return -ENOENT;
	p = profile__new_like(tmpl);
	if (!p)
		return -errno;
	for (i = 0; i < s->n && !err; i++)
		err = query__merge(p, &s->ring[i], from, to, f, INT64_MAX, &span);
	if (!err)
		err = query__merge(p, &s->open, from, to, f, s->last_add_ns, &span);
	if (err) {
		profile__free(p);
		return err;
	}
	if (span.to <= span.from)
		span = (struct query_span){ from, to };
	profile__set_time(p, span.from, span.to - span.from);
	*out = p;
	return 0;
}

/*
 * Merges under the lock: a writer may evict (free) a closed window at any
 * time, and a query is bounded by retention, so refcounting is not worth it.
 */
int store__query(struct store *s, int64_t from_ns, int64_t to_ns, const struct profile_filter *f,
		 struct profile **out)
{
	int err;

	if (!s || !out || from_ns >= to_ns)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	err = store__query_locked(s, from_ns, to_ns, f, out);
	pthread_mutex_unlock(&s->lock);
	return err;
}

void store__span(struct store *s, int64_t *from_ns, int64_t *to_ns)
{
	int64_t from = 0, to = 0;

	if (s) {
		pthread_mutex_lock(&s->lock);
		if (s->n) {
			from = s->ring[0].start_ns;
			to = s->ring[s->n - 1].end_ns;
		}
		if (s->open.p && (!s->n || s->open.start_ns < from))
			from = s->open.start_ns;
		if (s->open.p && (!s->n || s->open.end_ns > to))
			to = s->open.end_ns;
		pthread_mutex_unlock(&s->lock);
	}
	if (from_ns)
		*from_ns = from;
	if (to_ns)
		*to_ns = to;
}

/* bytes includes the open window, which counts against RSS though not the cap. */
void store__stats(struct store *s, struct store_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->windows = s->n;
	out->bytes = s->ring_bytes + profile__bytes(s->open.p);
	out->files = s->n_files;
	out->file_bytes = s->file_bytes;
	pthread_mutex_unlock(&s->lock);
}
