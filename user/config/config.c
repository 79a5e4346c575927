// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Layered configuration of `bpfprof serve`. Every key is described once in
 * keys[] (name, parser, field, range, default, help); the file, environment
 * and flag layers, the defaults and the usage text are all driven by it, so
 * a key cannot be documented with one default and set to another.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#define API_KEY_MAX  4096
#define PID_MAX	     4194304 /* PID_MAX_LIMIT on 64-bit kernels */
#define SRC_MAX	     (PATH_MAX + 64)
#define ENV_PREFIX   "BPFPROF_"
#define ENV_PREFIX_N (sizeof(ENV_PREFIX) - 1)

struct key;

/* State of one layer being applied; src names where the value came from. */
struct ctx {
	struct config *c;
	char *err;
	size_t errlen;
	char src[SRC_MAX];
	bool pids_seen;	 /* heap_pid already set in this layer: append, don't replace */
	bool watch_seen; /* the same for watch_pid */
};

typedef int (*setter)(struct ctx *x, const struct key *k, const char *val);

struct key {
	const char *name; /* file spelling; env upper-cases it, flags use dashes */
	setter set;
	size_t off;
	/*
	 * Range: double, because set_double keys have fractional bounds
	 * (heap_budget >= 0.01); integer keys' bounds are below 2^53, so exact.
	 */
	double lo, hi;
	const char *def; /* parsed by config__defaults; NULL: unset */
	const char *metavar;
	const char *help;
};

enum spelling { SP_FILE, SP_ENV, SP_FLAG };

static int set_uint(struct ctx *x, const struct key *k, const char *val);
static int set_duration(struct ctx *x, const struct key *k, const char *val);
static int set_bool(struct ctx *x, const struct key *k, const char *val);
static int set_double(struct ctx *x, const struct key *k, const char *val);
static int set_path(struct ctx *x, const struct key *k, const char *val);
static int set_listen(struct ctx *x, const struct key *k, const char *val);
static int set_pids(struct ctx *x, const struct key *k, const char *val);
static int set_severity(struct ctx *x, const struct key *k, const char *val);
static int set_heap_mode(struct ctx *x, const struct key *k, const char *val);

#define OFF(f) offsetof(struct config, f)

/* name, parser, field, lo, hi, default, metavar, help */
static const struct key keys[] = {
    {"listen", set_listen, 0, 0, 0, "127.0.0.1:6060", "ADDR:PORT",
     "HTTP address: IPv4, localhost or [IPv6]; port 0 picks a free port"},
    {"freq", set_uint, OFF(freq_hz), 1, 100000, "99", "HZ", "sampling frequency (alias -F)"},
    {"no_kernel", set_bool, OFF(no_kernel), 0, 0, "false", NULL, "leave kernel frames out"},
    {"unwind_table_mb", set_uint, OFF(unwind_table_mb), 1, 4096, "64", "MIB",
     "kernel memory for .eh_frame unwind tables of the CPU sampler (heap: a quarter)"},
    {"window", set_duration, OFF(window_s), 1, 3600, "10", "SECONDS",
     "length of one aggregation window (suffix s/m/h allowed)"},
    {"retention", set_duration, OFF(retention_s), 1, 604800, "900", "SECONDS",
     "how long windows are kept, >= window (suffix s/m/h allowed)"},
    {"store_mb", set_uint, OFF(store_mb), 1, 65536, "64", "MB", "memory cap of the window ring"},
    {"data_dir", set_path, OFF(data_dir), 0, 0, NULL, "DIR",
     "where profiles are saved (created 0700); unset: memory only"},
    {"data_max_files", set_uint, OFF(data_max_files), 1, 10000000, "1000", "N",
     "cap on files in data_dir"},
    {"data_max_mb", set_uint, OFF(data_max_mb), 1, 1048576, "256", "MB",
     "cap on megabytes in data_dir"},
    {"max_seconds", set_duration, OFF(max_seconds), 1, 3600, "300", "SECONDS",
     "cap of /profile?seconds=N"},
    {"api_key_file", set_path, OFF(api_key_file), 0, 0, NULL, "FILE",
     "file holding the API key clients must send; required off loopback"},
    {"insecure_allow_remote", set_bool, OFF(insecure_allow_remote), 0, 0, "false", NULL,
     "allow a non-loopback listen address without an API key"},
    {"tls_cert", set_path, OFF(tls_cert), 0, 0, NULL, "FILE", "PEM certificate (with tls_key)"},
    {"tls_key", set_path, OFF(tls_key), 0, 0, NULL, "FILE", "PEM private key (with tls_cert)"},
    {"rate_limit", set_double, OFF(rate_limit), 0, 1000000, "20", "RATE",
     "requests/s per client; 0 turns limiting off"},
    {"rate_burst", set_double, OFF(rate_burst), 1, 1000000, "40", "N",
     "requests a client may burst above rate_limit"},
    {"max_long_requests", set_uint, OFF(max_long_requests), 1, 1024, "4", "N",
     "concurrent long requests (profile?seconds=N)"},
    {"max_connections", set_uint, OFF(max_connections), 1, 65536, "256", "N",
     "concurrent HTTP connections"},
    {"log_file", set_path, OFF(log_file), 0, 0, NULL, "FILE", "log destination; unset: stderr"},
    {"heap_pid", set_pids, OFF(heap_pids), 1, PID_MAX, NULL, "PID[,PID...]",
     "processes whose heap is profiled; repeatable"},
    {"heap_rate", set_uint, OFF(heap_rate), 1, 1073741824, "524288", "BYTES",
     "mean bytes between heap samples; 1 samples every allocation"},
    {"heap_budget", set_double, OFF(heap_budget), 0.01, 100, "2", "PERCENT",
     "heap probe cost allowed per target, % of one CPU, before duty-cycling"},
    {"heap_mode", set_heap_mode, OFF(heap_mode), 0, 0, "auto", "MODE",
     "auto|preload|uprobe: libbpfprof-heap.so's hooks where loaded, else uprobes"},
    {"heap_auto_enroll", set_bool, OFF(heap_auto_enroll), 0, 0, "true", NULL,
     "heap-profile every process started with libbpfprof-heap.so loaded"},
    {"watch_pid", set_pids, OFF(watch_pids), 1, PID_MAX, NULL, "PID[,PID...]",
     "processes whose memory health is watched (heap PIDs are too); repeatable"},
    {"mem_warning_mb", set_uint, OFF(mem_warning_mb), 0, 16777216, "0", "MB",
     "RSS at which a watched process is 'warning'; 0: off"},
    {"mem_critical_mb", set_uint, OFF(mem_critical_mb), 0, 16777216, "0", "MB",
     "RSS at which a watched process is 'critical'; 0: off"},
    {"mem_warning_percent", set_double, OFF(mem_warning_percent), 0, 100, "80", "PERCENT",
     "RSS as % of the cgroup memory limit for 'warning'; 0: off"},
    {"mem_critical_percent", set_double, OFF(mem_critical_percent), 0, 100, "95", "PERCENT",
     "RSS as % of the cgroup memory limit for 'critical'; 0: off"},
    {"leak_min_age", set_duration, OFF(leak_min_age_s), 1, 86400, "60", "SECONDS",
     "live sampled allocations younger than this are not leak candidates"},
    {"snapshot_keep", set_uint, OFF(snapshot_keep), 1, 100000, "20", "N",
     "snapshots kept in data_dir/snapshots (newest)"},
    {"snapshot_cooldown", set_duration, OFF(snapshot_cooldown_s), 0, 604800, "600", "SECONDS",
     "least time between two automatic snapshots of one process"},
    {"auto_snapshot_severity", set_severity, OFF(auto_snapshot_severity), 0, 0, "critical",
     "SEVERITY", "none|low|medium|high|critical: automatic snapshot at this severity"},
    {"trend_window", set_duration, OFF(trend_window_s), 5, 86400, "300", "SECONDS",
     "window of the RSS growth rate and sustained-growth verdict"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static void verr(char *err, size_t errlen, const char *prefix, const char *fmt, va_list ap)
{
	int n = 0;

	if (!err || !errlen)
		return;
	if (prefix)
		n = snprintf(err, errlen, "%s: ", prefix);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static int errf(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(err, errlen, NULL, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Writes "<source>: <message>" and returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int fail(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(x->err, x->errlen, x->src, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

__attribute__((format(printf, 2, 3))) static void set_src(struct ctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->src, sizeof(x->src), fmt, ap);
	va_end(ap);
}

static int oom(struct ctx *x)
{
	fail(x, "out of memory");
	return -ENOMEM;
}

static void *field(struct ctx *x, const struct key *k)
{
	return (char *)x->c + k->off;
}

/* Digits only: strtoull would accept spaces, signs and wrap "-1" around. */
static int parse_ull(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool key__in_range(const struct key *k, double v)
{
	return v >= k->lo && v <= k->hi;
}

static int set_uint(struct ctx *x, const struct key *k, const char *val)
{
	unsigned long long v;

	if (parse_ull(val, strlen(val), &v) || !key__in_range(k, (double)v))
		return fail(x, "invalid value '%s' for %s: expected a whole number %.0f..%.0f", val,
			    k->name, k->lo, k->hi);
	*(unsigned int *)field(x, k) = v;
	return 0;
}

static int parse_duration(const char *s, unsigned long long *out)
{
	size_t n = strlen(s);
	unsigned long long mult = 1, v;

	if (n && strchr("smh", s[n - 1])) {
		mult = s[n - 1] == 'h' ? 3600 : s[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	if (parse_ull(s, n, &v) || v > ULLONG_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int set_duration(struct ctx *x, const struct key *k, const char *val)
{
	unsigned long long v;

	if (parse_duration(val, &v) || !key__in_range(k, (double)v))
		return fail(x,
			    "invalid value '%s' for %s: expected seconds %.0f..%.0f (or with "
			    "suffix s/m/h, e.g. 15m)",
			    val, k->name, k->lo, k->hi);
	*(unsigned int *)field(x, k) = v;
	return 0;
}

static int set_bool(struct ctx *x, const struct key *k, const char *val)
{
	static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!strcasecmp(val, yes[i]) || !strcasecmp(val, no[i])) {
			*(bool *)field(x, k) = !strcasecmp(val, yes[i]);
			return 0;
		}
	}
	return fail(x, "invalid value '%s' for %s: expected true/false/1/0/yes/no", val, k->name);
}

/* strtod alone would take leading spaces, signs, "inf", "nan" and hex. */
static int parse_double(const char *s, double *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) || strpbrk(s, "xX"))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	return errno || *end ? -EINVAL : 0;
}

static int set_double(struct ctx *x, const struct key *k, const char *val)
{
	double v;

	if (parse_double(val, &v) || !key__in_range(k, v))
		return fail(x, "invalid value '%s' for %s: expected a number %g..%g", val,
			    k->name, k->lo, k->hi);
	*(double *)field(x, k) = v;
	return 0;
}

static int set_path(struct ctx *x, const struct key *k, const char *val)
{
	char **p = field(x, k), *s;

	if (!*val || strlen(val) >= PATH_MAX)
		return fail(x, "invalid value '%s' for %s: expected a path", val, k->name);
	s = strdup(val);
	if (!s)
		return oom(x);
	free(*p);
	*p = s;
	return 0;
}

/* Parses "A.B.C.D:P", "localhost:P" or "[V6]:P" into a canonical address. */
static int parse_listen(const char *val, char *addr, size_t addrlen, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN + 8];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *colon = strrchr(val, ':'), *h = val;
	size_t hn = colon ? (size_t)(colon - val) : 0;
	unsigned long long p;
	int af = AF_INET;

	if (!colon || parse_ull(colon + 1, strlen(colon + 1), &p) || p > 65535)
		return -EINVAL;
	if (val[0] == '[') {
		if (hn < 2 || val[hn - 1] != ']')
			return -EINVAL;
		h++;
		hn -= 2;
		af = AF_INET6;
	}
	if (hn >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hn);
	host[hn] = '\0';
	if (af == AF_INET && !strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(af, host, bin) != 1 || !inet_ntop(af, bin, addr, addrlen))
		return -EINVAL;
	*port = p;
	return 0;
}

static int set_listen(struct ctx *x, const struct key *k, const char *val)
{
	struct config *c = x->c;

	if (parse_listen(val, c->listen_addr, sizeof(c->listen_addr), &c->listen_port))
		return fail(x,
			    "invalid address '%s' for %s: expected IPV4:PORT, localhost:PORT or "
			    "[IPV6]:PORT, port 0..65535",
			    val, k->name);
	return 0;
}

static int add_pid(uint32_t *pids, size_t *n, uint32_t pid)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (pids[i] == pid)
			return 0;
	if (*n == CONFIG_MAX_HEAP_PIDS)
		return -E2BIG;
	pids[(*n)++] = pid;
	return 0;
}

/* A later layer replaces the list; repeats within one layer add to it. */
static int set_pids(struct ctx *x, const struct key *k, const char *val)
{
	bool watch = k->off == OFF(watch_pids);
	size_t *count = watch ? &x->c->n_watch_pids : &x->c->n_heap_pids;
	bool *seen = watch ? &x->watch_seen : &x->pids_seen;
	const char *s = val;
	unsigned long long p;
	size_t n;

	if (!*seen)
		*count = 0;
	*seen = true;
	for (;;) {
		n = strcspn(s, ",");
		if (parse_ull(s, n, &p) || !key__in_range(k, (double)p))
			return fail(x,
				    "invalid value '%s' for %s: expected PIDs %.0f..%.0f, "
				    "comma-separated",
				    val, k->name, k->lo, k->hi);
		if (add_pid(field(x, k), count, p))
			return fail(x, "too many PIDs for %s (at most %d)", k->name,
				    CONFIG_MAX_HEAP_PIDS);
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static int set_severity(struct ctx *x, const struct key *k, const char *val)
{
	static const char *const names[] = {"none", "low", "medium", "high", "critical"};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(val, names[i])) {
			*(unsigned int *)field(x, k) = i;
			return 0;
		}
	}
	return fail(x, "invalid value '%s' for %s: expected none, low, medium, high or critical",
		    val, k->name);
}

/* Same order as enum heap_mode (user/heap/heap.h): config is below heap. */
static int set_heap_mode(struct ctx *x, const struct key *k, const char *val)
{
	static const char *const names[] = {"auto", "preload", "uprobe"};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(val, names[i])) {
			*(unsigned int *)field(x, k) = i;
			return 0;
		}
	}
	return fail(x, "invalid value '%s' for %s: expected auto, preload or uprobe", val,
		    k->name);
}

/* Matches s[0..n) against a key name spelt as the given source spells it. */
static bool name_eq(const char *name, const char *s, size_t n, enum spelling sp)
{
	size_t i;

	if (strlen(name) != n)
		return false;
	for (i = 0; i < n; i++) {
		char kc = name[i], c = s[i];
		bool ok;

		if (kc == '_')
			ok = (c == '_' && sp != SP_FLAG) || (c == '-' && sp != SP_ENV);
		else
			ok = c == (sp == SP_ENV ? toupper((unsigned char)kc) : kc);
		if (!ok)
			return false;
	}
	return true;
}

static const struct key *find_key(const char *s, size_t n, enum spelling sp)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (name_eq(keys[i].name, s, n, sp))
			return &keys[i];
	return NULL;
}

void config__defaults(struct config *c)
{
	struct ctx x = {.c = c};
	size_t i;

	memset(c, 0, sizeof(*c));
	/* Only scalar keys have defaults, so parsing them cannot fail. */
	for (i = 0; i < N_KEYS; i++)
		if (keys[i].def)
			keys[i].set(&x, &keys[i], keys[i].def);
}

void config__free(struct config *c)
{
	if (!c)
		return;
	free(c->data_dir);
	free(c->api_key_file);
	if (c->api_key)
		explicit_bzero(c->api_key, strlen(c->api_key));
	free(c->api_key);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->log_file);
	c->data_dir = c->api_key_file = c->api_key = NULL;
	c->tls_cert = c->tls_key = c->log_file = NULL;
}

/* ---- config file ---- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Cuts the value out of the text after '=' (quotes, trailing comment); NULL on error. */
static char *file_value(struct ctx *x, char *v)
{
	char *q;

	while (isspace((unsigned char)*v))
		v++;
	if (*v == '"') {
		q = strchr(v + 1, '"');
		if (!q) {
			fail(x, "unterminated quote in %s", v);
			return NULL;
		}
		*q++ = '\0';
		q = trim(q);
		if (*q && *q != '#') {
			fail(x, "unexpected text '%s' after closing quote", q);
			return NULL;
		}
		return v + 1;
	}
	/* '#' starts a comment only after whitespace, so "a#b" stays a value. */
	for (q = v; *q; q++) {
		if (*q == '#' && (q == v || isspace((unsigned char)q[-1]))) {
			*q = '\0';
			break;
		}
	}
	return trim(v);
}

static int file_line(struct ctx *x, char *line)
{
	char *p = trim(line), *eq, *name, *val;
	const struct key *k;

	if (!*p || *p == '#')
		return 0;
	eq = strchr(p, '=');
	if (!eq)
		return fail(x, "expected 'key = value', got '%s'", p);
	*eq = '\0';
	name = trim(p);
	if (!*name)
		return fail(x, "missing key before '='");
	k = find_key(name, strlen(name), SP_FILE);
	if (!k)
		return fail(x, "unknown key '%s'", name);
	val = file_value(x, eq + 1);
	return val ? k->set(x, k, val) : -EINVAL;
}

static int load_file(struct ctx *x, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = 0;

	set_src(x, "config file %s", path);
	if (!f)
		return fail(x, "cannot open: %s", strerror(errno));
	while (!ret && getline(&line, &cap, f) != -1) {
		set_src(x, "config file %s line %u", path, ++lineno);
		ret = file_line(x, line);
	}
	if (!ret && ferror(f)) {
		set_src(x, "config file %s", path);
		ret = fail(x, "read error");
	}
	free(line);
	fclose(f);
	return ret;
}

/* ---- environment ---- */

/* Variables under our prefix that are not configuration keys. */
static bool env_ignored(const char *name, size_t n)
{
	return (n == 6 && !strncmp(name, "CONFIG", 6)) ||
	       (n == 8 && !strncmp(name, "HTTP_LOG", 8)) || !strncmp(name, "TEST_", 5);
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int load_env(struct ctx *x, char **envp)
{
	const struct key *k;
	const char *name, *eq;
	int ret = 0;

	for (; !ret && envp && *envp; envp++) {
		eq = strchr(*envp, '=');
		if (strncmp(*envp, ENV_PREFIX, ENV_PREFIX_N) || !eq)
			continue;
		name = *envp + ENV_PREFIX_N;
		if (env_ignored(name, eq - name))
			continue;
		set_src(x, "environment %.*s", (int)(eq - *envp), *envp);
		k = find_key(name, eq - name, SP_ENV);
		ret = k ? k->set(x, k, eq + 1) : fail(x, "unknown variable (no such key)");
	}
	return ret;
}

/* ---- command line ---- */

struct flag {
	const struct key *k;
	const char *name; /* as typed, up to '=' */
	int name_len;
	const char *val;
};

struct scan {
	struct flag *flags;
	size_t n;
	const char *config;
	bool help, failed, dashdash;
};

__attribute__((format(printf, 4, 5))) static void scan_fail(struct ctx *x, struct scan *s,
							    const char *src, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	va_start(ap, fmt);
	verr(x->err, x->errlen, src, fmt, ap);
	va_end(ap);
}

/* Takes the value of flag argv[*i]: after '=', or the next argument. */
static const char *flag_value(int argc, char **argv, int *i, const char *eq, bool is_bool)
{
	if (eq)
		return eq + 1;
	if (is_bool)
		return "true";
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static void scan_long(struct ctx *x, struct scan *s, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	int n = eq ? eq - a : (int)strlen(a);
	const struct key *k = find_key(a + 2, n - 2, SP_FLAG);
	bool config = n == 8 && !strncmp(a, "--config", 8);
	const char *val = NULL;

	if (k || config)
		val = flag_value(argc, argv, i, eq, k && k->set == set_bool);
	if (!k && !config)
		scan_fail(x, s, NULL, "%.*s: unknown flag", n, a);
	else if (!val || (config && !*val))
		scan_fail(x, s, NULL, "%.*s: missing value", n, a);
	else if (config)
		s->config = val;
	else
		s->flags[s->n++] = (struct flag){k, a, n, val};
}

static void scan_arg(struct ctx *x, struct scan *s, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (s->dashdash || a[0] != '-' || !a[1])
		return scan_fail(x, s, NULL, "unexpected argument '%s': serve takes only flags", a);
	if (!strcmp(a, "--"))
		s->dashdash = true;
	else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
		s->help = true;
	else if (a[1] == '-')
		scan_long(x, s, argc, argv, i);
	else if (a[1] != 'F')
		scan_fail(x, s, NULL, "%s: unknown flag", a);
	else if (a[2] || *i + 1 < argc)
		s->flags[s->n++] =
		    (struct flag){find_key("freq", 4, SP_FILE), a, 2, a[2] ? a + 2 : argv[++*i]};
	else
		scan_fail(x, s, NULL, "-F: missing value");
}

static int apply_flags(struct ctx *x, const struct scan *s)
{
	const struct flag *f;
	int ret = 0;

	for (f = s->flags; !ret && f < s->flags + s->n; f++) {
		set_src(x, "%.*s", f->name_len, f->name);
		ret = f->k->set(x, f->k, f->val);
	}
	return ret;
}

int config__load(struct config *c, int argc, char **argv, char **envp, char *err, size_t errlen)
{
	struct ctx x = {.c = c, .err = err, .errlen = err ? errlen : 0};
	struct scan s = {0};
	int i, ret;

	/* Flags are scanned first: --config picks the file and --help wins. */
	s.flags = calloc(argc > 0 ? argc : 1, sizeof(*s.flags));
	if (!s.flags)
		return oom(&x);
	for (i = 1; i < argc; i++)
		scan_arg(&x, &s, argc, argv, &i);
	ret = s.help ? 1 : s.failed ? -EINVAL : 0;
	if (s.help && x.errlen)
		err[0] = '\0';
	/* An empty BPFPROF_CONFIG means no file, as if it were unset. */
	if (!ret && !s.config)
		s.config = env_get(envp, ENV_PREFIX "CONFIG");
	if (s.config && !*s.config)
		s.config = NULL;
	if (!ret && s.config)
		ret = load_file(&x, s.config);
	x.pids_seen = x.watch_seen = false;
	if (!ret)
		ret = load_env(&x, envp);
	x.pids_seen = x.watch_seen = false;
	if (!ret)
		ret = apply_flags(&x, &s);
	free(s.flags);
	return ret;
}

/* ---- validation ---- */

void config__listen_str(const struct config *c, char *buf, size_t len)
{
	bool v6 = strchr(c->listen_addr, ':');

	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", c->listen_addr, c->listen_port);
}

bool config__is_loopback(const struct config *c)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!strcmp(c->listen_addr, "localhost"))
		return true;
	if (inet_pton(AF_INET, c->listen_addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, c->listen_addr, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

static int check_readable(const char *key, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errf(err, errlen, "%s '%s': cannot read: %s", key, path, strerror(errno));
	close(fd);
	return 0;
}

static int check_tls(const struct config *c, char *err, size_t errlen)
{
	int ret;

	if (!c->tls_cert != !c->tls_key)
		return errf(err, errlen, "%s is set but %s is not: set both or neither",
			    c->tls_cert ? "tls_cert" : "tls_key",
			    c->tls_cert ? "tls_key" : "tls_cert");
	if (!c->tls_cert)
		return 0;
	ret = check_readable("tls_cert", c->tls_cert, err, errlen);
	return ret ? ret : check_readable("tls_key", c->tls_key, err, errlen);
}

/* Reads at most len - 1 bytes; returns the count, or -errno. */
static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	return got;
}

/* The key ends up in an HTTP header comparison: printable, no spaces. */
static int key_text_ok(const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] <= ' ' || (unsigned char)k[i] == 0x7f)
			return 0;
	return 1;
}

static int parse_api_key(struct config *c, char *buf, size_t n, char *err, size_t errlen)
{
	const char *f = c->api_key_file;
	char *k;

	if (n != strlen(buf))
		return errf(err, errlen, "api_key_file '%s': contains a NUL byte", f);
	k = trim(buf);
	if (!*k)
		return errf(err, errlen, "api_key_file '%s': is empty", f);
	if (strlen(k) > API_KEY_MAX)
		return errf(err, errlen, "api_key_file '%s': key is larger than 4 KiB", f);
	if (!key_text_ok(k, strlen(k)))
		return errf(err, errlen,
			    "api_key_file '%s': key contains spaces or control characters", f);
	c->api_key = strdup(k);
	if (!c->api_key) {
		errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int read_api_key(struct config *c, int fd, char *err, size_t errlen)
{
	char buf[2 * API_KEY_MAX + 2]; /* room for padding around a maximal key */
	ssize_t n = read_all(fd, buf, sizeof(buf));
	int ret;

	if (n < 0)
		ret = errf(err, errlen, "api_key_file '%s': cannot read: %s", c->api_key_file,
			   strerror(-n));
	else if ((size_t)n == sizeof(buf) - 1)
		ret = errf(err, errlen, "api_key_file '%s': key is larger than 4 KiB",
			   c->api_key_file);
	else
		ret = parse_api_key(c, buf, n, err, errlen);
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

static void warn_key_mode(const char *path, mode_t mode)
{
	if (mode & (S_IRGRP | S_IROTH))
		fprintf(stderr,
			"bpfprof: warning: api_key_file '%s' is readable by group/others "
			"(mode %04o); chmod 600 it\n",
			path, (unsigned int)(mode & 07777));
}

static int load_api_key(struct config *c, char *err, size_t errlen)
{
	const char *f = c->api_key_file;
	struct stat st;
	int fd, ret;

	fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errf(err, errlen, "api_key_file '%s': cannot read: %s", f, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		ret = errf(err, errlen, "api_key_file '%s': not a regular file", f);
	else
		ret = read_api_key(c, fd, err, errlen);
	if (!ret)
		warn_key_mode(f, st.st_mode);
	close(fd);
	return ret;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path), *s;
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; !ret && *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			ret = -errno;
		*s = '/';
	}
	if (!ret && mkdir(p, 0700) && errno != EEXIST)
		ret = -errno;
	free(p);
	return ret;
}

static int check_data_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int ret = mkdir_p(dir);

	if (!ret && stat(dir, &st))
		ret = -errno;
	if (!ret && !S_ISDIR(st.st_mode))
		ret = -ENOTDIR;
	if (!ret && access(dir, W_OK | X_OK))
		ret = -errno;
	if (ret)
		return errf(err, errlen, "data_dir '%s': cannot create or write: %s", dir,
			    strerror(-ret));
	return 0;
}

static int check_remote(const struct config *c, char *err, size_t errlen)
{
	char where[sizeof(c->listen_addr) + 16];

	if (c->api_key || c->insecure_allow_remote || config__is_loopback(c))
		return 0;
	config__listen_str(c, where, sizeof(where));
	return errf(err, errlen,
		    "refusing to listen on %s without an API key: set api_key_file or pass "
		    "--insecure-allow-remote",
		    where);
}

static int check_thresholds(const struct config *c, char *err, size_t errlen)
{
	if (c->mem_warning_mb && c->mem_critical_mb && c->mem_warning_mb > c->mem_critical_mb)
		return errf(err, errlen, "mem_warning_mb (%u) is above mem_critical_mb (%u)",
			    c->mem_warning_mb, c->mem_critical_mb);
	if (c->mem_warning_percent > 0 && c->mem_critical_percent > 0 &&
	    c->mem_warning_percent > c->mem_critical_percent)
		return errf(err, errlen, "mem_warning_percent (%g) is above mem_critical_percent (%g)",
			    c->mem_warning_percent, c->mem_critical_percent);
	return 0;
}

int config__validate(struct config *c, char *err, size_t errlen)
{
	int ret = 0;

	if (!err)
		errlen = 0;
	if (c->api_key)
		explicit_bzero(c->api_key, strlen(c->api_key));
	free(c->api_key);
	c->api_key = NULL;
	if (c->retention_s < c->window_s)
		return errf(err, errlen,
			    "retention (%u s) is shorter than window (%u s): retention must be >= "
			    "window",
			    c->retention_s, c->window_s);
	ret = check_thresholds(c, err, errlen);
	if (!ret)
		ret = check_tls(c, err, errlen);
	if (!ret && c->api_key_file)
		ret = load_api_key(c, err, errlen);
	if (!ret)
		ret = check_remote(c, err, errlen);
	if (!ret && c->data_dir)
		ret = check_data_dir(c->data_dir, err, errlen);
	return ret;
}

/* ---- usage ---- */

static void usage_key(FILE *f, const struct key *k)
{
	char flag[64], env[64];
	size_t i;

	snprintf(flag, sizeof(flag), "--%s%s%s", k->name, k->metavar ? " " : "",
		 k->metavar ? k->metavar : "");
	for (i = 2; flag[i] && flag[i] != ' '; i++)
		if (flag[i] == '_')
			flag[i] = '-';
	for (i = 0; k->name[i] && i < sizeof(env) - 1; i++)
		env[i] = toupper((unsigned char)k->name[i]);
	env[i] = '\0';
	fprintf(f, "  %-25s %s\n", flag, k->help);
	fprintf(f, "  %-25s key %s, env " ENV_PREFIX "%s, default %s\n", "", k->name, env,
		k->def ? k->def : "none");
}

void config__usage(FILE *f)
{
	size_t i;

	fputs("Usage: bpfprof serve [OPTIONS]\n"
	      "\n"
	      "Settings are layered: defaults, then the config file, then the environment,\n"
	      "then flags; each layer overrides the one before (a later heap_pid list\n"
	      "replaces an earlier one). Boolean flags take no value; in the file and the\n"
	      "environment they take true/false/1/0/yes/no.\n"
	      "\n"
	      "  --config FILE             'key = value' lines, '#' comments\n"
	      "                            env " ENV_PREFIX "CONFIG\n"
	      "  -h, --help                show this text\n",
	      f);
	for (i = 0; i < N_KEYS; i++)
		usage_key(f, &keys[i]);
}
