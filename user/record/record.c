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

#include "pipeline/pipeline.h"
#include "profile/profile.h"
#include "record/record.h"
#include "record/record_int.h"
#include "symbolizer/symbolizer.h"
#include "util/proc.h"
#include "writer/folded.h"
#include "writer/pprof.h"

#define DRAIN_INTERVAL_MS 1000
#define POLL_MS 50
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
		"                      [-R|--heap-rate BYTES]\n"
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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

/* Forks the command stopped on a pipe, so its first instructions are profiled too. */
static int start_child(struct record *r)
{
	int fds[2];
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return EXIT_RUNTIME;
	r->child = fork();
	if (r->child < 0) {
		fprintf(stderr, "bpfprof: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return EXIT_RUNTIME;
	}
	if (r->child == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127); /* the profiler failed to start: do not run unprofiled */
		execvp(r->o->command[0], r->o->command);
		fprintf(stderr, "bpfprof: cannot run '%s': %s\n", r->o->command[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
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

static void show_progress(struct record *r, bool done)
{
	double left = r->o->duration_s - elapsed_s(r);

	if (!isatty(STDERR_FILENO))
		return;
	if (done) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (r->o->duration_s > 0)
		fprintf(stderr, "\r\033[Krecording: %.0f s left, %" PRIu64 " samples (Ctrl-C to stop)",
			left > 0 ? ceil(left) : 0, r->drained);
	else
		fprintf(stderr, "\r\033[Krecording: %.0f s, %" PRIu64 " samples (Ctrl-C to stop)",
			elapsed_s(r), r->drained);
}

static bool should_stop(struct record *r)
{
	if (stop_requested)
		return true;
	if (r->o->duration_s > 0 && elapsed_s(r) >= r->o->duration_s)
		return true;
	if (r->child > 0) {
		reap_child(r, false);
		return r->child_done;
	}
	return !record__targets_alive(r);
}

static int run_loop(struct record *r)
{
	int rc = EXIT_OK, err;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->last_drain_ms = now_ms();
	while (rc == EXIT_OK && !should_stop(r)) {
		err = record__poll(r, POLL_MS);
		if (err < 0) {
			fprintf(stderr, "bpfprof: polling events failed: %s\n", strerror(-err));
			return EXIT_RUNTIME;
		}
		if (now_ms() - r->last_drain_ms >= DRAIN_INTERVAL_MS)
			rc = record__drain(r);
		show_progress(r, false);
	}
	/* Serve notices raised by the last samples before reading them. */
	record__poll(r, 0);
	show_progress(r, true);
	return rc == EXIT_OK ? record__drain(r) : rc;
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
	err = r->o->format == FORMAT_FOLDED ? folded__write(r->prof, r->value_type, f) :
					      pprof__write(r->prof, f);
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
	struct profile_top top[TOP_N];
	int64_t total = profile__total(r->prof, r->value_type);
	size_t n = profile__top(r->prof, r->value_type, top, TOP_N);

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
	struct pipeline_stats ps;
	struct symbolizer_stats ss;
	double secs = elapsed_s(r);

	pipeline__stats(r->pl, &ps);
	symbolizer__stats(r->sym, &ss);
	record__print_counts(r, secs, ps.processes);
	fprintf(stderr,
		"bpfprof: frames: %" PRIu64 ", unsymbolized %" PRIu64 "; symbol cache %" PRIu64
		" hits, %" PRIu64 " misses, %" PRIu64 " evictions; %" PRIu64 " files refused\n",
		ps.frames, ps.frames_unsymbolized, ss.hits, ss.misses, ss.evictions,
		ss.files_refused);
	if (ss.files_refused)
		fprintf(stderr, "bpfprof: refused files users control (last: %s)\n",
			ss.last_refused);
	if (r->child > 0 && r->child_done && WIFEXITED(r->child_status) &&
	    WEXITSTATUS(r->child_status))
		fprintf(stderr, "bpfprof: command exited with status %d\n",
			WEXITSTATUS(r->child_status));
	print_top(r);
}

static void teardown(struct record *r)
{
	record__stop_collectors(r);
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
	pipeline__free(r->pl);
	symbolizer__free(r->sym);
	profile__free(r->prof);
}

static int record_run(struct record_opts *o)
{
	struct record r = { .o = o, .go_fd = -1, .out_fd = -1 };
	int rc;

	rc = check_pids(o);
	rc = rc ?: open_output(&r);
	rc = rc ?: (o->command ? start_child(&r) : EXIT_OK);
	rc = rc ?: record__setup(&r);
	if (rc == EXIT_OK) {
		release_child(&r);
		profile__set_time(r.prof, now_ns_realtime(), 0);
		rc = run_loop(&r);
	}
	if (rc == EXIT_OK) {
		profile__set_time(r.prof, now_ns_realtime() - (int64_t)(elapsed_s(&r) * 1e9),
				  (int64_t)(elapsed_s(&r) * 1e9));
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
