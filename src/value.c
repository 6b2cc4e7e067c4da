/*
 * value.c - the JSON-shaped data tree used for template data, subscriber
 * attributes and --json output.
 *
 * Owns: the tree's memory, number text validation, and key lookup in
 * objects (a linear scan for small objects, an open-addressing index once
 * an object grows past VALUE_INDEX_MIN keys so that big JSON objects do not
 * cost O(n^2) to build; a scan for a key in any ASCII case).  Does not
 * own: parsing or writing JSON (json.c) or what a value means to a
 * template (template.c).
 */
#include <errno.h>
#include <math.h>	/* isfinite */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "value.h"
#include "xmalloc.h"

#define VALUE_INDEX_MIN	16

struct value_member {
	char		*key;
	uint32_t	 hash;
	struct value	*v;
};

struct value {
	enum value_type	 type;
	union {
		int	 b;
		struct {		/* VALUE_STRING and VALUE_NUMBER */
			char	*s;
			size_t	 len;
			size_t	 cap;	/* bytes at s, the NUL's too */
		} str;
		struct {
			struct value	**v;
			size_t		  n;
			size_t		  cap;
		} list;
		struct {
			struct value_member	*m;
			size_t			 n;
			size_t			 cap;
			size_t			*idx;	/* member + 1; 0 empty */
			size_t			 idxcap; /* power of two */
		} obj;
	} u;
};

static struct value *
value_alloc(enum value_type type)
{
	struct value	*v;

	v = xcalloc(1, sizeof *v);
	v->type = type;
	return v;
}

struct value *
value_new_null(void)
{
	return value_alloc(VALUE_NULL);
}

struct value *
value_new_bool(int b)
{
	struct value	*v;

	v = value_alloc(VALUE_BOOL);
	v->u.b = b != 0;
	return v;
}

static struct value *
value_new_number_raw(const char *s, size_t len)
{
	struct value	*v;

	v = value_alloc(VALUE_NUMBER);
	v->u.str.s = xstrndup(s, len);
	v->u.str.len = len;
	v->u.str.cap = len + 1;
	return v;
}

struct value *
value_new_int(long long n)
{
	char	tmp[32];
	int	len;

	len = snprintf(tmp, sizeof tmp, "%lld", n);
	return value_new_number_raw(tmp, (size_t)len);
}

struct value *
value_new_time(long long t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		s[32];

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return value_new_null();
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return value_new_string(s);
}

struct value *
value_new_double(double d)
{
	char	tmp[64];
	int	prec, len = 0;

	if (!isfinite(d))
		return value_new_null();
	/* The shortest %g form that reads back as the same double. */
	for (prec = 1; prec <= 17; prec++) {
		len = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return value_new_number_raw(tmp, (size_t)len);
}

int
value_is_number_text(const char *s, size_t len)
{
	size_t	i = 0, start;

	if (i < len && s[i] == '-')
		i++;
	if (i >= len)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9') {
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	} else
		return 0;
	if (i < len && s[i] == '.') {
		start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	return i == len;
}

struct value *
value_new_number_text(const char *s)
{
	size_t	len = strlen(s);

	if (!value_is_number_text(s, len))
		return NULL;
	return value_new_number_raw(s, len);
}

struct value *
value_new_string(const char *s)
{
	return value_new_stringn(s, strlen(s));
}

struct value *
value_new_stringn(const char *s, size_t len)
{
	struct value	*v;

	v = value_alloc(VALUE_STRING);
	v->u.str.s = xmalloc(len + 1);
	if (len > 0)
		memcpy(v->u.str.s, s, len);
	v->u.str.s[len] = '\0';
	v->u.str.len = len;
	v->u.str.cap = len + 1;
	return v;
}

void
value_string_set(struct value *v, const char *s, size_t len)
{
	if (v == NULL || v->type != VALUE_STRING)
		fatalx("value_string_set: not a string");
	if (len >= v->u.str.cap) {
		free(v->u.str.s);
		v->u.str.cap = len + 1;
		v->u.str.s = xmalloc(v->u.str.cap);
	}
	if (len > 0)
		memcpy(v->u.str.s, s, len);
	v->u.str.s[len] = '\0';
	v->u.str.len = len;
}

struct value *
value_new_list(void)
{
	return value_alloc(VALUE_LIST);
}

struct value *
value_new_object(void)
{
	return value_alloc(VALUE_OBJECT);
}

void
value_list_append(struct value *list, struct value *v)
{
	if (list == NULL || list->type != VALUE_LIST)
		fatalx("value_list_append: not a list");
	if (v == NULL)
		fatalx("value_list_append: NULL value");
	if (list->u.list.n == list->u.list.cap) {
		list->u.list.cap = list->u.list.cap ? list->u.list.cap * 2 : 8;
		list->u.list.v = xreallocarray(list->u.list.v,
		    list->u.list.cap, sizeof *list->u.list.v);
	}
	list->u.list.v[list->u.list.n++] = v;
}

/* FNV-1a; keys come from data files, so nothing cleverer is needed. */
static uint32_t
value_hash(const char *key)
{
	uint32_t	h = 2166136261u;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u;
	}
	return h;
}

static void
value_index_insert(struct value *obj, size_t member)
{
	size_t	mask = obj->u.obj.idxcap - 1, i;

	i = obj->u.obj.m[member].hash & mask;
	while (obj->u.obj.idx[i] != 0)
		i = (i + 1) & mask;
	obj->u.obj.idx[i] = member + 1;
}

static void
value_index_rebuild(struct value *obj)
{
	size_t	cap, i;

	free(obj->u.obj.idx);
	obj->u.obj.idx = NULL;
	obj->u.obj.idxcap = 0;
	if (obj->u.obj.n < VALUE_INDEX_MIN)
		return;
	for (cap = 64; cap < obj->u.obj.n * 2; cap *= 2)
		;
	obj->u.obj.idx = xcalloc(cap, sizeof *obj->u.obj.idx);
	obj->u.obj.idxcap = cap;
	for (i = 0; i < obj->u.obj.n; i++)
		value_index_insert(obj, i);
}

uint32_t
value_key_hash(const char *key)
{
	return value_hash(key);
}

/* The member's position, or -1; h is the key's hash. */
static long
value_object_find_hashed(const struct value *obj, const char *key,
    uint32_t h)
{
	size_t		mask, i, m;

	if (obj->u.obj.idx == NULL) {
		for (i = 0; i < obj->u.obj.n; i++) {
			if (obj->u.obj.m[i].hash == h &&
			    strcmp(obj->u.obj.m[i].key, key) == 0)
				return (long)i;
		}
		return -1;
	}
	mask = obj->u.obj.idxcap - 1;
	for (i = h & mask; (m = obj->u.obj.idx[i]) != 0; i = (i + 1) & mask) {
		if (obj->u.obj.m[m - 1].hash == h &&
		    strcmp(obj->u.obj.m[m - 1].key, key) == 0)
			return (long)(m - 1);
	}
	return -1;
}

static long
value_object_find(const struct value *obj, const char *key)
{
	return value_object_find_hashed(obj, key, value_hash(key));
}

void
value_object_set(struct value *obj, const char *key, struct value *v)
{
	struct value_member	*m;
	uint32_t		 h;
	long			 at;

	if (obj == NULL || obj->type != VALUE_OBJECT)
		fatalx("value_object_set: not an object");
	if (v == NULL)
		fatalx("value_object_set: NULL value");
	h = value_hash(key);
	if ((at = value_object_find_hashed(obj, key, h)) != -1) {
		value_free(obj->u.obj.m[at].v);
		obj->u.obj.m[at].v = v;
		return;
	}
	if (obj->u.obj.n == obj->u.obj.cap) {
		obj->u.obj.cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 8;
		obj->u.obj.m = xreallocarray(obj->u.obj.m, obj->u.obj.cap,
		    sizeof *obj->u.obj.m);
	}
	m = &obj->u.obj.m[obj->u.obj.n++];
	m->key = xstrdup(key);
	m->hash = h;
	m->v = v;
	if (obj->u.obj.idx == NULL || obj->u.obj.n * 2 > obj->u.obj.idxcap)
		value_index_rebuild(obj);
	else
		value_index_insert(obj, obj->u.obj.n - 1);
}

int
value_object_remove(struct value *obj, const char *key)
{
	long	at;

	if (obj == NULL || obj->type != VALUE_OBJECT)
		fatalx("value_object_remove: not an object");
	if ((at = value_object_find(obj, key)) == -1)
		return -1;
	free(obj->u.obj.m[at].key);
	value_free(obj->u.obj.m[at].v);
	memmove(&obj->u.obj.m[at], &obj->u.obj.m[at + 1],
	    (obj->u.obj.n - (size_t)at - 1) * sizeof *obj->u.obj.m);
	obj->u.obj.n--;
	if (obj->u.obj.idx != NULL)
		value_index_rebuild(obj);
	return 0;
}

struct value *
value_copy(const struct value *v)
{
	struct value	*c;
	size_t		 i;

	if (v == NULL)
		return value_new_null();
	switch (v->type) {
	case VALUE_NULL:
		return value_new_null();
	case VALUE_BOOL:
		return value_new_bool(v->u.b);
	case VALUE_NUMBER:
		return value_new_number_raw(v->u.str.s, v->u.str.len);
	case VALUE_STRING:
		return value_new_stringn(v->u.str.s, v->u.str.len);
	case VALUE_LIST:
		c = value_new_list();
		for (i = 0; i < v->u.list.n; i++)
			value_list_append(c, value_copy(v->u.list.v[i]));
		return c;
	case VALUE_OBJECT:
		c = value_new_object();
		for (i = 0; i < v->u.obj.n; i++) {
			value_object_set(c, v->u.obj.m[i].key,
			    value_copy(v->u.obj.m[i].v));
		}
		return c;
	}
	fatalx("value_copy: bad type %d", (int)v->type);
}

void
value_free(struct value *v)
{
	size_t	i;

	if (v == NULL)
		return;
	switch (v->type) {
	case VALUE_NULL:
	case VALUE_BOOL:
		break;
	case VALUE_NUMBER:
	case VALUE_STRING:
		free(v->u.str.s);
		break;
	case VALUE_LIST:
		for (i = 0; i < v->u.list.n; i++)
			value_free(v->u.list.v[i]);
		free(v->u.list.v);
		break;
	case VALUE_OBJECT:
		for (i = 0; i < v->u.obj.n; i++) {
			free(v->u.obj.m[i].key);
			value_free(v->u.obj.m[i].v);
		}
		free(v->u.obj.m);
		free(v->u.obj.idx);
		break;
	}
	free(v);
}

enum value_type
value_get_type(const struct value *v)
{
	return v == NULL ? VALUE_NULL : v->type;
}

const char *
value_type_name(enum value_type type)
{
	switch (type) {
	case VALUE_NULL:
		return "null";
	case VALUE_BOOL:
		return "boolean";
	case VALUE_NUMBER:
		return "number";
	case VALUE_STRING:
		return "string";
	case VALUE_LIST:
		return "list";
	case VALUE_OBJECT:
		return "object";
	}
	return "unknown";
}

int
value_bool(const struct value *v)
{
	return v != NULL && v->type == VALUE_BOOL && v->u.b;
}

const char *
value_string(const struct value *v, size_t *lenp)
{
	if (v == NULL || v->type != VALUE_STRING)
		return NULL;
	if (lenp != NULL)
		*lenp = v->u.str.len;
	return v->u.str.s;
}

const char *
value_number_text(const struct value *v)
{
	if (v == NULL || v->type != VALUE_NUMBER)
		return NULL;
	return v->u.str.s;
}

int
value_number_int(const struct value *v, long long *out)
{
	const char	*s;
	char		*end;
	long long	 n;
	double		 d;

	if ((s = value_number_text(v)) == NULL)
		return -1;
	if (strpbrk(s, ".eE") == NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
		*out = n;
		return 0;
	}
	/* "1.0" and "1e3" are integers too, when they are in range. */
	d = strtod(s, NULL);
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return -1;
	if ((double)(long long)d != d)
		return -1;
	*out = (long long)d;
	return 0;
}

double
value_number_double(const struct value *v)
{
	const char	*s;

	if ((s = value_number_text(v)) == NULL)
		return 0;
	return strtod(s, NULL);
}

size_t
value_list_len(const struct value *v)
{
	if (v == NULL || v->type != VALUE_LIST)
		return 0;
	return v->u.list.n;
}

struct value *
value_list_get(const struct value *v, size_t i)
{
	if (v == NULL || v->type != VALUE_LIST || i >= v->u.list.n)
		return NULL;
	return v->u.list.v[i];
}

size_t
value_object_len(const struct value *v)
{
	if (v == NULL || v->type != VALUE_OBJECT)
		return 0;
	return v->u.obj.n;
}

const char *
value_object_key(const struct value *v, size_t i)
{
	if (v == NULL || v->type != VALUE_OBJECT || i >= v->u.obj.n)
		return NULL;
	return v->u.obj.m[i].key;
}

struct value *
value_object_value(const struct value *v, size_t i)
{
	if (v == NULL || v->type != VALUE_OBJECT || i >= v->u.obj.n)
		return NULL;
	return v->u.obj.m[i].v;
}

struct value *
value_object_get(const struct value *obj, const char *key)
{
	return value_object_get_hashed(obj, key, value_hash(key));
}

struct value *
value_object_get_hashed(const struct value *obj, const char *key,
    uint32_t hash)
{
	long	at;

	if (obj == NULL || obj->type != VALUE_OBJECT)
		return NULL;
	if ((at = value_object_find_hashed(obj, key, hash)) == -1)
		return NULL;
	return obj->u.obj.m[at].v;
}

int
value_key_equal_nocase(const char *a, const char *b)
{
	unsigned char	ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

struct value *
value_object_get_nocase(const struct value *obj, const char *key)
{
	size_t	i;

	if (obj == NULL || obj->type != VALUE_OBJECT)
		return NULL;
	for (i = 0; i < obj->u.obj.n; i++) {
		if (value_key_equal_nocase(obj->u.obj.m[i].key, key))
			return obj->u.obj.m[i].v;
	}
	return NULL;
}

const char *
value_object_get_string(const struct value *obj, const char *key)
{
	return value_string(value_object_get(obj, key), NULL);
}
