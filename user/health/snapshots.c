// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Snapshot files in the data dir: ids, atomic writes, sidecars, rotation. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "health/snapshots.h"

#define DEFAULT_KEEP	   20
#define MAX_SNAPSHOT_BYTES (256u << 20)

struct snapshots {
	char *dir;
	unsigned int keep;
	uint64_t rotated;
	pthread_mutex_t lock;
};

bool snapshot__id_valid(const char *id, size_t len)
{
	if (!id || len < SNAPSHOT_ID_MIN || len > SNAPSHOT_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

static bool id_ok(const char *id)
{
	return id && snapshot__id_valid(id, strnlen(id, SNAPSHOT_ID_MAX + 1));
}

struct snapshots *snapshots__open(const char *data_dir, unsigned int keep)
{
	struct snapshots *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (!data_dir || asprintf(&s->dir, "%s/snapshots", data_dir) < 0) {
		s->dir = NULL;
		errno = data_dir ? ENOMEM : EINVAL;
		goto fail;
	}
	if (mkdir(s->dir, 0700) && errno != EEXIST)
		goto fail;
	s->keep = keep ? keep : DEFAULT_KEEP;
	pthread_mutex_init(&s->lock, NULL);
	return s;
fail:
	free(s->dir);
	free(s);
	return NULL;
}

void snapshots__close(struct snapshots *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

static void path_of(const struct snapshots *s, const char *id, const char *ext, char *out,
		    size_t len)
{
	snprintf(out, len, "%s/%s%s", s->dir, id, ext);
}

static int new_id(char *out, int64_t now_ns)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -errno ?: -EIO;
	snprintf(out, SNAPSHOT_ID_MAX + 1, "%016" PRIx64 "%08" PRIx32, (uint64_t)now_ns, r);
	return 0;
}

/* Writes data to path through a temp file and rename, so readers never see half a file. */
static int write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wxe");
	if (!f)
		return -errno;
	if (len && fwrite(data, 1, len, f) != len)
		err = -EIO;
	if (fflush(f) || fsync(fileno(f)))
		err = err ?: -errno;
	if (fclose(f))
		err = err ?: -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static struct json_object *meta_json(const struct snapshot_meta *m)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "pid", json_object_new_int64(m->pid));
	json_object_object_add(o, "comm", json_object_new_string(m->comm));
	json_object_object_add(o, "type", json_object_new_string(m->type));
	json_object_object_add(o, "created_ns", json_object_new_int64(m->created_ns));
	json_object_object_add(o, "bytes", json_object_new_int64(m->bytes));
	json_object_object_add(o, "reason", json_object_new_string(m->reason));
	return o;
}

static int write_sidecar(struct snapshots *s, const struct snapshot_meta *m)
{
	struct json_object *o = meta_json(m);
	char path[PATH_MAX];
	const char *text;
	int err;

	if (!o)
		return -ENOMEM;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	path_of(s, m->id, ".json", path, sizeof(path));
	err = text ? write_atomic(path, text, strlen(text)) : -ENOMEM;
	json_object_put(o);
	return err;
}

static void copy_str(char *dst, size_t len, struct json_object *o, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, len, "%s", json_object_get_string(v));
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Reads the sidecar; a missing or broken one leaves only what the pprof file tells. */
static int read_meta(struct snapshots *s, const char *id, struct snapshot_meta *m)
{
	char path[PATH_MAX];
	struct json_object *o;
	struct stat st;

	memset(m, 0, sizeof(*m));
	path_of(s, id, ".pb.gz", path, sizeof(path));
	if (stat(path, &st))
		return -errno;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->bytes = st.st_size;
	m->created_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	path_of(s, id, ".json", path, sizeof(path));
	o = json_object_from_file(path);
	if (!o)
		return 0;
	m->pid = get_int(o, "pid");
	m->created_ns = get_int(o, "created_ns") ?: m->created_ns;
	copy_str(m->comm, sizeof(m->comm), o, "comm");
	copy_str(m->type, sizeof(m->type), o, "type");
	copy_str(m->reason, sizeof(m->reason), o, "reason");
	json_object_put(o);
	return 0;
}

static int cmp_id_desc(const void *a, const void *b)
{
	return -strcmp(((const struct snapshot_meta *)a)->id,
		       ((const struct snapshot_meta *)b)->id);
}

/* Ids of <id>.pb.gz files, newest first (ids start with the time). Lock held. */
static int list_ids(struct snapshots *s, struct snapshot_meta **out, size_t *n)
{
	DIR *d = opendir(s->dir);
	struct snapshot_meta *v = NULL, *nv;
	struct dirent *e;
	size_t cap = 0, len;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d)) && *n < SNAPSHOTS_LIST_MAX) {
		len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".pb.gz") ||
		    !snapshot__id_valid(e->d_name, len - 6))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		memset(&v[*n], 0, sizeof(*v));
		memcpy(v[*n].id, e->d_name, len - 6);
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_id_desc);
	*out = v;
	return 0;
}

static void remove_files(struct snapshots *s, const char *id)
{
	char path[PATH_MAX];

	path_of(s, id, ".pb.gz", path, sizeof(path));
	unlink(path);
	path_of(s, id, ".json", path, sizeof(path));
	unlink(path);
}

/* Keeps the newest `keep`. Lock held. */
static void rotate(struct snapshots *s)
{
	struct snapshot_meta *v;
	size_t n;

	if (list_ids(s, &v, &n))
		return;
	for (size_t i = s->keep; i < n; i++) {
		remove_files(s, v[i].id);
		s->rotated++;
	}
	free(v);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int snapshots__save(struct snapshots *s, struct snapshot_meta *meta, const void *gz, size_t len)
{
	char path[PATH_MAX];
	int err;

	meta->created_ns = now_ns();
	meta->bytes = len;
	err = new_id(meta->id, meta->created_ns);
	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	path_of(s, meta->id, ".pb.gz", path, sizeof(path));
	err = write_atomic(path, gz, len);
	if (!err)
		err = write_sidecar(s, meta);
	if (err)
		remove_files(s, meta->id);
	else
		rotate(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int snapshots__list(struct snapshots *s, struct snapshot_meta **out, size_t *n)
{
	size_t i, kept = 0;
	int err;

	pthread_mutex_lock(&s->lock);
	err = list_ids(s, out, n);
	/* A file deleted between readdir and stat is simply not listed. */
	for (i = 0; !err && i < *n; i++) {
		char id[SNAPSHOT_ID_MAX + 1];

		memcpy(id, (*out)[i].id, sizeof(id));
		if (!read_meta(s, id, &(*out)[kept]))
			kept++;
	}
	if (!err)
		*n = kept;
	pthread_mutex_unlock(&s->lock);
	return err;
}

int snapshots__get(struct snapshots *s, const char *id, struct snapshot_meta *meta)
{
	int err;

	if (!id_ok(id))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	err = read_meta(s, id, meta);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	int err = 0;

	*data = NULL;
	*len = 0;
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > MAX_SNAPSHOT_BYTES)
		err = -EINVAL;
	if (!err) {
		*data = malloc(st.st_size ? st.st_size : 1);
		err = *data ? 0 : -ENOMEM;
	}
	if (!err && fread(*data, 1, st.st_size, f) != (size_t)st.st_size)
		err = -EIO;
	if (err) {
		free(*data);
		*data = NULL;
	} else {
		*len = st.st_size;
	}
	fclose(f);
	return err;
}

int snapshots__read(struct snapshots *s, const char *id, uint8_t **data, size_t *len)
{
	char path[PATH_MAX];
	int err;

	*data = NULL;
	*len = 0;
	if (!id_ok(id))
		return -EINVAL;
	path_of(s, id, ".pb.gz", path, sizeof(path));
	pthread_mutex_lock(&s->lock);
	err = read_file(path, data, len);
	pthread_mutex_unlock(&s->lock);
	return err;
}

int snapshots__delete(struct snapshots *s, const char *id)
{
	char path[PATH_MAX];
	int err = 0;

	if (!id_ok(id))
		return -EINVAL;
	path_of(s, id, ".pb.gz", path, sizeof(path));
	pthread_mutex_lock(&s->lock);
	if (access(path, F_OK))
		err = -errno;
	else
		remove_files(s, id);
	pthread_mutex_unlock(&s->lock);
	return err;
}

uint64_t snapshots__rotated(struct snapshots *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->rotated;
	pthread_mutex_unlock(&s->lock);
	return n;
}
