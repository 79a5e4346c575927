// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap/heap.h"
#include "profile/profile.h"
#include "record/record.h"
#include "record/record_int.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/proc.h"
#include "writer/folded.h"
#include "writer/pprof.h"

#define MAX_DURATION_S (7 * 24 * 3600.0)
#define TOP_N 10
#define MAX_MIN_BLOCK_US 60000000ULL

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void record__usage(FILE *f)
{
	fprintf(f,
		"usage: bpfprof record [-p PID[,PID...]]... [-d SECONDS] [-F HZ] [-o FILE]\n"
		"                      [--format pprof|folded] [--no-kernel]\n"
		"                      [-t cpu|offcpu|wall|mutex|heap] [--min-block-us US]\n"
		"                      [-R|--heap-rate BYTES] [--heap-mode auto|preload|uprobe]\n"
		"                      [-- COMMAND ARGS...]\n"
		"  -p, --pid PID[,PID]  profile these processes (repeatable); default: whole system\n"
		"  -d, --duration SECS  how long to record (default 10; with a command: until it exits)\n"
		"  -F, --freq HZ        samples per second per CPU (default 99)\n"
		"  -o, --output FILE    output file (default TYPE.pb.gz, or TYPE.folded)\n"
		"      --format FMT     pprof (gzip'd profile.proto) or folded (flamegraph.pl)\n"
		"      --no-kernel      drop kernel frames\n"
		"      --unwind MODE    user stacks: dwarf (.eh_frame tables, default) or fp\n"
		"      --unwind-table-mb MB  kernel memory for unwind tables (default 64)\n"
		"  -t, --type TYPE      cpu (default): on-CPU samples; offcpu: time blocked (I/O,\n"
		"                       sleeps, locks); wall: on-CPU + off-CPU time of -p or a\n"
		"                       command; mutex: time waiting in futex (lock) waits;\n"
		"                       heap: sampled allocations of -p or a command\n"
		"  -R, --heap-rate BYTES  heap: mean bytes between samples (default 524288;\n"
		"                       1: every allocation)\n"
		"      --heap-mode MODE heap: preload (a command runs with libbpfprof-heap.so,\n"
		"                       sampled in-process: one trap per sample), uprobe (probes\n"
		"                       on the allocator), auto (default: preload where it can,\n"
		"                       and for -p where the process has the library loaded)\n"
		"      --min-block-us US  off-CPU periods shorter than US microseconds are not\n"
		"                       counted (offcpu, wall, mutex; default 1)\n"
		"  -- COMMAND ARGS...   start COMMAND and profile it (and its children) until it exits\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "bpfprof: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'bpfprof record --help'.\n");
	return EXIT_USAGE;
}

static int max_sample_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	int rate = 100000;

	if (f) {
		if (fscanf(f, "%d", &rate) != 1 || rate <= 0)
			rate = 100000;
		fclose(f);
	}
	return rate;
}

static int parse_freq(const char *arg, struct record_opts *o)
{
	char *end;
	long hz;

	errno = 0;
	hz = strtol(arg, &end, 10);
	if (errno || end == arg || *end || hz <= 0)
		return usage_error("invalid frequency '%s': expected a whole number of Hz > 0", arg);
	if (hz > max_sample_rate())
		return usage_error("frequency '%s' Hz is above the kernel's "
				   "perf_event_max_sample_rate",
				   arg);
	o->freq_hz = hz;
	return EXIT_OK;
}

static int parse_duration(const char *arg, struct record_opts *o)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(d) || d <= 0 || d > MAX_DURATION_S)
		return usage_error("invalid duration '%s': expected seconds > 0 (at most a week)",
				   arg);
	o->duration_s = d;
	o->duration_set = true;
	return EXIT_OK;
}

static int add_pid(const char *tok, struct record_opts *o)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(tok, &end, 10);
	if (errno || end == tok || *end || pid <= 0 || pid > INT_MAX)
		return usage_error("invalid PID '%s'", tok);
	if (o->n_pids >= MAX_FILTER_PIDS)
		return usage_error("too many PIDs (at most %s)", "1024");
	for (size_t i = 0; i < o->n_pids; i++)
		if (o->pids[i] == (uint32_t)pid)
			return EXIT_OK;
	o->pids[o->n_pids++] = pid;
	return EXIT_OK;
}

static int parse_pids(const char *arg, struct record_opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int rc = EXIT_OK;

	if (!copy)
		return EXIT_RUNTIME;
	if (!*arg)
		rc = usage_error("invalid PID list '%s'", arg);
	for (tok = strtok_r(copy, ",", &save); tok && rc == EXIT_OK; tok = strtok_r(NULL, ",", &save))
		rc = add_pid(tok, o);
	free(copy);
	return rc;
}

static int parse_type(const char *arg, struct record_opts *o)
{
	static const char *const names[] = {
		[RECORD_CPU] = "cpu",
		[RECORD_OFFCPU] = "offcpu",
		[RECORD_WALL] = "wall",
		[RECORD_MUTEX] = "mutex",
		[RECORD_HEAP] = "heap",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			o->type = i;
			return EXIT_OK;
		}
	}
	return usage_error("unknown profile type '%s': expected cpu, offcpu, wall, mutex or heap",
			    arg);
}

static int parse_min_block(const char *arg, struct record_opts *o)
{
	char *end;
	unsigned long long us;

	errno = 0;
	us = strtoull(arg, &end, 10);
	/* strtoull accepts "-1" as a huge number: digits only. */
	if (!isdigit((unsigned char)*arg) || errno || *end || us > MAX_MIN_BLOCK_US)
		return usage_error("invalid minimum block time '%s': expected whole microseconds "
				   "from 0 to 60000000",
				   arg);
	o->min_block_us = us;
	o->min_block_set = true;
	return EXIT_OK;
}

static int parse_table_mb(const char *arg, struct record_opts *o)
{
	char *end;
	long mb;

	errno = 0;
	mb = strtol(arg, &end, 10);
	if (errno || end == arg || *end || mb <= 0 || mb > 4096)
		return usage_error("invalid --unwind-table-mb '%s': expected 1 to 4096", arg);
	o->unwind_table_mb = mb;
	return EXIT_OK;
}

/* Heap sampling rate: mean bytes between samples, 1 for every allocation. */
static int parse_heap_rate(const char *arg, struct record_opts *o)
{
	char *end;
	unsigned long long r;

	errno = 0;
	r = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || errno || *end || r == 0 || r > (1ULL << 40))
		return usage_error("invalid heap sampling rate '%s': expected bytes from 1 "
				   "(every allocation) to 2^40",
				   arg);
	o->heap_rate = r;
	return EXIT_OK;
}

static int parse_opt(int c, const char *arg, struct record_opts *o)
{
	switch (c) {
	case 'p':
		return parse_pids(arg, o);
	case 'd':
		return parse_duration(arg, o);
	case 'F':
		return parse_freq(arg, o);
	case 'o':
		if (!*arg)
			return usage_error("empty output file name%s", "");
		o->output = arg;
		return EXIT_OK;
	case 'f':
		if (!strcmp(arg, "pprof"))
			o->format = FORMAT_PPROF;
		else if (!strcmp(arg, "folded"))
			o->format = FORMAT_FOLDED;
		else
			return usage_error("unknown format '%s': expected pprof or folded", arg);
		return EXIT_OK;
	case 'k':
		o->no_kernel = true;
		return EXIT_OK;
	case 't':
		return parse_type(arg, o);
	case 'B':
		return parse_min_block(arg, o);
	case 'U':
		if (strcmp(arg, "dwarf") && strcmp(arg, "fp"))
			return usage_error("unknown unwind mode '%s': expected dwarf or fp", arg);
		o->fp_unwind = !strcmp(arg, "fp");
		return EXIT_OK;
	case 'M':
		return parse_table_mb(arg, o);
	case 'R':
		return parse_heap_rate(arg, o);
	case 'H': {
		enum heap_mode m;

		if (heap_mode__parse(arg, &m))
			return usage_error("unknown heap mode '%s': expected auto, preload or uprobe",
					   arg);
		o->heap_mode = m;
		o->heap_mode_set = true;
		return EXIT_OK;
	}
	default:
		return usage_error("unknown option%s", "");
	}
}

/* Defaults and rules that depend on more than one flag. */
static int check_combination(struct record_opts *o)
{
	static const char *const outputs[][2] = {
		[RECORD_CPU] = { "cpu.pb.gz", "cpu.folded" },
		[RECORD_OFFCPU] = { "offcpu.pb.gz", "offcpu.folded" },
		[RECORD_WALL] = { "wall.pb.gz", "wall.folded" },
		[RECORD_MUTEX] = { "mutex.pb.gz", "mutex.folded" },
		[RECORD_HEAP] = { "heap.pb.gz", "heap.folded" },
	};

	if (o->type == RECORD_WALL && !o->n_pids && !o->command)
		return usage_error("-t wall needs -p PID or a command: whole-system wall time "
				   "mixes every idle thread%s",
				   "");
	if (o->type == RECORD_HEAP && !o->n_pids && !o->command)
		return usage_error("-t heap needs -p PID or a command: allocator probes are per "
				   "process%s",
				   "");
	if (o->type != RECORD_HEAP && o->heap_rate)
		return usage_error("--heap-rate applies to -t heap%s", "");
	if (o->type != RECORD_HEAP && o->heap_mode_set)
		return usage_error("--heap-mode applies to -t heap%s", "");
	if ((o->type == RECORD_CPU || o->type == RECORD_HEAP) && o->min_block_set)
		return usage_error("--min-block-us applies to -t offcpu, wall and mutex%s", "");
	if (!o->min_block_set)
		o->min_block_us = RECORD_MIN_BLOCK_US;
	if (!o->output)
		o->output = outputs[o->type][o->format == FORMAT_FOLDED];
	return EXIT_OK;
}

int record__parse(int argc, char **argv, struct record_opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "freq", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-kernel", no_argument, NULL, 'k' },
		{ "type", required_argument, NULL, 't' },
		{ "min-block-us", required_argument, NULL, 'B' },
		{ "unwind", required_argument, NULL, 'U' },
		{ "unwind-table-mb", required_argument, NULL, 'M' },
		{ "heap-rate", required_argument, NULL, 'R' },
		{ "heap-mode", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->freq_hz = 99;
	o->duration_s = 10;
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option, so COMMAND's own flags stay its own. */
	while ((c = getopt_long(argc, argv, "+:p:d:F:o:t:R:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			record__usage(stdout);
			return -1;
		}
		if (c == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		rc = parse_opt(c, optarg, o);
		if (rc != EXIT_OK)
			return rc;
	}
	if (optind < argc) {
		o->command = &argv[optind];
		if (o->n_pids)
			return usage_error("use either -p or a command, not both%s", "");
		if (!o->duration_set)
			o->duration_s = 0;
	}
	return check_combination(o);
}

static int check_pids(const struct record_opts *o)
{
	for (size_t i = 0; i < o->n_pids; i++) {
		if (!proc__alive(o->pids[i])) {
			fprintf(stderr, "bpfprof: no process with PID %" PRIu32 "\n", o->pids[i]);
			return EXIT_RUNTIME;
		}
	}
	return EXIT_OK;
}

/* Creates the output's temporary sibling now, so an unwritable path fails before profiling. */
static int open_output(struct record *r)
{
	if (asprintf(&r->tmp_path, "%s.tmp.XXXXXX", r->o->output) < 0) {
		r->tmp_path = NULL;
		return EXIT_RUNTIME;
	}
	r->out_fd = mkstemp(r->tmp_path);
	if (r->out_fd < 0) {
		fprintf(stderr, "bpfprof: cannot write output '%s': %s\n", r->o->output,
			strerror(errno));
		free(r->tmp_path);
		r->tmp_path = NULL;
		return EXIT_RUNTIME;
	}
	fchmod(r->out_fd, 0644);
	return EXIT_OK;
}

/* environ with LD_PRELOAD=lib (before any already there) and BPFPROF_HEAP_RATE=rate. */
static char **preload_env(const char *lib, uint64_t rate)
{
	extern char **environ;
	size_t n = 0, k = 0;
	const char *old = getenv("LD_PRELOAD");
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) &&
		    strncmp(environ[i], "BPFPROF_HEAP_RATE=", 18))
			env[k++] = environ[i];
	/* Only the two strings made here are owned: the rest are environ's. */
	if (asprintf(&env[k], "LD_PRELOAD=%s%s%s", lib, old && *old ? ":" : "", old ? old : "") < 0)
		env[k] = NULL;
	else if (asprintf(&env[k + 1], "BPFPROF_HEAP_RATE=%" PRIu64, rate) < 0)
		env[k + 1] = NULL;
	if (!env[k] || !env[k + 1]) {
		free(env[k]);
		free(env);
		return NULL;
	}
	return env;
}

static void preload_env__free(char **env)
{
	size_t n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	if (n >= 2) {
		free(env[n - 2]);
		free(env[n - 1]);
	}
	free(env);
}

/*
 * -t heap with a command: preload libbpfprof-heap.so unless --heap-mode
 * uprobe, and settle the mode the tracker uses. *env NULL: run as is.
 */
static int heap_command_mode(struct record *r, char ***env)
{
	struct record_opts *o = r->o;
	char lib[PATH_MAX], why[PATH_MAX + 64] = "";
	int err;

	*env = NULL;
	if (o->type != RECORD_HEAP || o->heap_mode == HEAP_MODE_UPROBE)
		return EXIT_OK;
	err = heap_preload__lib_path(lib, sizeof(lib));
	if (err)
		snprintf(why, sizeof(why), "libbpfprof-heap.so not found (next to bpfprof, in "
					   "../lib/bpfprof/, or $BPFPROF_HEAP_LIB)");
	else
		err = heap_preload__check_exe(o->command[0], why, sizeof(why));
	if (err == -ENOENT && !why[0])
		return EXIT_OK; /* no such command: execvp says so */
	if (err && o->heap_mode == HEAP_MODE_PRELOAD) {
		fprintf(stderr, "bpfprof: --heap-mode preload: %s\n", why);
		return EXIT_USAGE;
	}
	if (err) {
		fprintf(stderr, "bpfprof: heap: %s: using allocator uprobes\n", why);
		o->heap_mode = HEAP_MODE_UPROBE;
		return EXIT_OK;
	}
	*env = preload_env(lib, o->heap_rate ? o->heap_rate : 524288);
	if (!*env)
		return EXIT_RUNTIME;
	o->heap_mode = HEAP_MODE_PRELOAD;
	return EXIT_OK;
}

/* Forks the command stopped on a pipe, so its first instructions are profiled too. */
static int start_child(struct record *r)
{
	char **env = NULL;
	int fds[2], rc;
	char c;

	rc = heap_command_mode(r, &env);
	if (rc != EXIT_OK)
		return rc;
	if (pipe2(fds, O_CLOEXEC)) {
		preload_env__free(env);
		return EXIT_RUNTIME;
	}
	r->child = fork();
	if (r->child < 0) {
		fprintf(stderr, "bpfprof: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		preload_env__free(env);
		return EXIT_RUNTIME;
	}
	if (r->child == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127); /* the profiler failed to start: do not run unprofiled */
		if (env)
			execvpe(r->o->command[0], r->o->command, env);
		else
			execvp(r->o->command[0], r->o->command);
		fprintf(stderr, "bpfprof: cannot run '%s': %s\n", r->o->command[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	preload_env__free(env);
	r->go_fd = fds[1];
	r->o->pids[0] = r->child;
	r->o->n_pids = 1;
	return EXIT_OK;
}

static void release_child(struct record *r)
{
	if (r->go_fd >= 0) {
		if (write(r->go_fd, "g", 1) != 1)
			fprintf(stderr, "bpfprof: could not start the command\n");
		close(r->go_fd);
		r->go_fd = -1;
	}
}

static void reap_child(struct record *r, bool block)
{
	if (r->child <= 0 || r->child_done)
		return;
	if (waitpid(r->child, &r->child_status, block ? 0 : WNOHANG) == r->child)
		r->child_done = true;
}

static double elapsed_s(const struct record *r)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - r->start.tv_sec) + (ts.tv_nsec - r->start.tv_nsec) / 1e9;
}

/* Samples only change at a drain: the line is redrawn once a second. */
static void show_progress(struct session *s, struct profile *p, int64_t now_ns, void *ctx)
{
	struct record *r = ctx;
	double left = r->o->duration_s - elapsed_s(r);
	struct session_stats st;

	(void)p;
	(void)now_ns;
	if (!isatty(STDERR_FILENO))
		return;
	session__stats(s, &st);
	if (r->o->duration_s > 0)
		fprintf(stderr, "\r\033[Krecording: %.0f s left, %" PRIu64 " samples (Ctrl-C to stop)",
			left > 0 ? ceil(left) : 0, st.samples);
	else
		fprintf(stderr, "\r\033[Krecording: %.0f s, %" PRIu64 " samples (Ctrl-C to stop)",
			elapsed_s(r), st.samples);
}

/* Heap: the command's PID once it runs its own program. */
static void heap_add_command(struct record *r)
{
	char self[64], exe[4096], mine[4096];
	ssize_t n, m;
	int err;

	if (r->o->type != RECORD_HEAP || r->child <= 0 || r->go_fd >= 0 || r->command_added)
		return;
	snprintf(self, sizeof(self), "/proc/%d/exe", (int)r->child);
	n = readlink(self, exe, sizeof(exe) - 1);
	m = readlink("/proc/self/exe", mine, sizeof(mine) - 1);
	if (n <= 0 || m <= 0 || (n == m && !memcmp(exe, mine, n)))
		return;
	err = session__add_pid(r->sess, r->child);
	/* Preloaded: the loader may not have mapped the library yet; next round. */
	if (err == -ENOENT && r->o->heap_mode == HEAP_MODE_PRELOAD)
		return;
	r->command_added = !err || err == -EEXIST;
	if (!r->command_added)
		fprintf(stderr, "bpfprof: cannot profile the heap of the command: %s\n",
			strerror(-err));
}

/* Ctrl-C, or the command's exit (-d and the -p targets' exit are the session's). */
static bool should_stop(struct session *s, void *ctx)
{
	struct record *r = ctx;

	(void)s;
	if (stop_requested)
		return true;
	if (r->child <= 0)
		return false;
	heap_add_command(r);
	reap_child(r, false);
	return r->child_done;
}

static int run_loop(struct record *r)
{
	int err;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	err = session__run(r->sess, NULL);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	if (err) {
		fprintf(stderr, "bpfprof: reading samples failed: %s\n", strerror(-err));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static enum session_type session_type(enum record_type t)
{
	switch (t) {
	case RECORD_OFFCPU:
		return SESSION_OFFCPU;
	case RECORD_WALL:
		return SESSION_WALL;
	case RECORD_MUTEX:
		return SESSION_MUTEX;
	case RECORD_HEAP:
		return SESSION_HEAP;
	default:
		return SESSION_CPU;
	}
}

/* The session: its collectors start now, the command is still held on its pipe. */
static int start_session(struct record *r)
{
	const struct record_opts *o = r->o;
	/* A command's heap is watched once it runs its own program (heap_add_command). */
	bool heap_later = o->type == RECORD_HEAP && o->command;
	struct session_opts so = {
	    .type = session_type(o->type),
	    .pids = heap_later ? NULL : o->pids,
	    .n_pids = heap_later ? 0 : o->n_pids,
	    .follow_forks = o->command != NULL,
	    .freq_hz = o->freq_hz,
	    .no_kernel = o->no_kernel,
	    .min_block_ns = o->min_block_us * 1000,
	    .fp_unwind = o->fp_unwind,
	    .unwind_table_mb = o->unwind_table_mb,
	    .heap_rate = o->heap_rate,
	    .heap_mode = o->heap_mode,
	    .seconds = o->duration_s,
	    .stop_when_targets_exit = !o->command,
	    .hooks = {.should_stop = should_stop, .on_drain = show_progress, .ctx = r},
	};

	if (o->type == RECORD_HEAP)
		r->value_type = HEAP_INUSE_SPACE;
	else if (o->type == RECORD_OFFCPU || o->type == RECORD_MUTEX)
		r->value_type = 1;
	r->sess = session__new(&so);
	return r->sess ? EXIT_OK : EXIT_RUNTIME;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: poll must return so the loop sees the request. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int write_output(struct record *r)
{
	FILE *f = fdopen(r->out_fd, "w");
	int err;

	if (!f) {
		err = -errno;
		goto out;
	}
	r->out_fd = -1;
	err = r->o->format == FORMAT_FOLDED ?
		  folded__write(session__profile(r->sess), r->value_type, f) :
		  pprof__write(session__profile(r->sess), f);
	if (fflush(f) || fsync(fileno(f)))
		err = err ?: -errno;
	if (fclose(f))
		err = err ?: -errno;
	if (!err && rename(r->tmp_path, r->o->output))
		err = -errno;
out:
	if (err) {
		fprintf(stderr, "bpfprof: writing '%s' failed: %s\n", r->o->output, strerror(-err));
		return EXIT_RUNTIME;
	}
	free(r->tmp_path);
	r->tmp_path = NULL;
	return EXIT_OK;
}

static void print_top(struct record *r)
{
	struct profile *p = session__profile(r->sess);
	struct profile_top top[TOP_N];
	int64_t total = profile__total(p, r->value_type);
	size_t n = profile__top(p, r->value_type, top, TOP_N);

	if (!total)
		return;
	fprintf(stderr, "top functions by %s:\n  %6s %6s  %s\n", record__top_title(r), "self",
		"total", "function");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %5.1f%% %5.1f%%  %s\n", 100.0 * top[i].flat / total,
			100.0 * top[i].cum / total, top[i].name);
}

static void print_summary(struct record *r)
{
	record__print_counts(r, elapsed_s(r));
	if (r->child > 0 && r->child_done && WIFEXITED(r->child_status) &&
	    WEXITSTATUS(r->child_status))
		fprintf(stderr, "bpfprof: command exited with status %d\n",
			WEXITSTATUS(r->child_status));
	print_top(r);
}

static void teardown(struct record *r)
{
	/* Collectors first: the probes go before the command is reaped. */
	session__free(r->sess);
	r->sess = NULL;
	if (r->go_fd >= 0)
		close(r->go_fd); /* a child still waiting exits without running */
	if (r->child > 0 && !r->child_done)
		reap_child(r, true);
	if (r->out_fd >= 0)
		close(r->out_fd);
	if (r->tmp_path) {
		unlink(r->tmp_path);
		free(r->tmp_path);
	}
}

static int record_run(struct record_opts *o)
{
	struct record r = { .o = o, .go_fd = -1, .out_fd = -1 };
	int rc;

	rc = check_pids(o);
	rc = rc ?: open_output(&r);
	rc = rc ?: (o->command ? start_child(&r) : EXIT_OK);
	rc = rc ?: start_session(&r);
	if (rc == EXIT_OK) {
		release_child(&r);
		profile__set_time(session__profile(r.sess), clock__ns(CLOCK_REALTIME), 0);
		rc = run_loop(&r);
	}
	if (rc == EXIT_OK) {
		int64_t dur = (int64_t)(elapsed_s(&r) * 1e9);

		profile__set_time(session__profile(r.sess), clock__ns(CLOCK_REALTIME) - dur, dur);
		rc = write_output(&r);
	}
	if (rc == EXIT_OK)
		print_summary(&r);
	teardown(&r);
	return rc;
}

int record__main(int argc, char **argv)
{
	struct record_opts *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return EXIT_RUNTIME;
	rc = record__parse(argc, argv, o);
	if (rc < 0) {
		rc = EXIT_OK; /* --help */
		goto out;
	}
	if (rc != EXIT_OK)
		goto out;
	if (geteuid() != 0) {
		fprintf(stderr, "bpfprof: must run as root to load BPF programs "
				"(CAP_BPF and CAP_PERFMON); try: sudo bpfprof record ...\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	install_signals();
	rc = record_run(o);
out:
	free(o);
	return rc;
}
