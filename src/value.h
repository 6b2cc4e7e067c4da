/*
 * value.h - postroom's own small data tree (JSON-shaped).
 *
 * Template data, subscriber attributes and --json output are all a struct
 * value, so that json-c stays inside json.c.  A value is null, a boolean,
 * a number, a string, a list or an object:
 *
 *   - numbers keep their text ("1.21" stays 1.21, 85 stays 85), which is
 *     what Mustache prints and what --json writes back;
 *   - strings are UTF-8 with an explicit length (they may hold NUL bytes;
 *     the data is always NUL-terminated as well);
 *   - objects keep their keys in insertion order; keys are C strings and
 *     unique (setting a key again replaces its value in place).
 *
 * Ownership:
 *   - every value_new_*() returns a new value the caller owns and frees
 *     with value_free(), unless it hands it to a container;
 *   - value_list_append() and value_object_set() TAKE OWNERSHIP of the
 *     value passed in (the key is copied);
 *   - value_list_get(), value_object_get(), value_object_value() and the
 *     string accessors return BORROWED pointers, valid until the container
 *     is changed or freed;
 *   - value_copy() returns a deep copy the caller owns.
 * Calling a list or object function on a value of another type is a broken
 * invariant and aborts (fatalx); the getters simply return NULL / 0.
 */
#ifndef POSTROOM_VALUE_H
#define POSTROOM_VALUE_H

#include <stddef.h>
#include <stdint.h>

enum value_type {
	VALUE_NULL,
	VALUE_BOOL,
	VALUE_NUMBER,
	VALUE_STRING,
	VALUE_LIST,
	VALUE_OBJECT,
};

struct value;

/* Builders. */
struct value	*value_new_null(void);
struct value	*value_new_bool(int);
struct value	*value_new_int(long long);
/* Shortest text that reads back as the same double; NaN/inf give null. */
struct value	*value_new_double(double);
/*
 * A unix time as an ISO 8601 UTC string ("2026-11-22T06:43:39Z"), or null
 * for 0: how postroom's --json output and exports write times.
 */
struct value	*value_new_time(long long);
/* The text must be a JSON number ("-3", "1.21", "1e5"); else NULL. */
struct value	*value_new_number_text(const char *);
struct value	*value_new_string(const char *);
struct value	*value_new_stringn(const char *, size_t);
/*
 * Change a string's text to s[0..len) in place, keeping its memory when
 * it is big enough: for data that changes between renders (a newsletter's
 * per-recipient fields), so that pointers to the value stay good (what
 * value_string() gave before does not).  A value that is not a string
 * aborts; s must not point into the string.
 */
void		 value_string_set(struct value *, const char *, size_t);
struct value	*value_new_list(void);
struct value	*value_new_object(void);

void		 value_list_append(struct value *list, struct value *);
void		 value_object_set(struct value *obj, const char *key,
		     struct value *);
/* Remove key and free its value: 0, or -1 when the key is not there. */
int		 value_object_remove(struct value *obj, const char *key);

struct value	*value_copy(const struct value *);
void		 value_free(struct value *);	/* NULL is fine */

/* Getters. */
enum value_type	 value_get_type(const struct value *);	/* NULL: VALUE_NULL */
const char	*value_type_name(enum value_type);	/* "null", "list" */
int		 value_bool(const struct value *);	/* 0 unless true */
/* NULL unless a string; *lenp (when not NULL) gets the length. */
const char	*value_string(const struct value *, size_t *lenp);
/* NULL unless a number. */
const char	*value_number_text(const struct value *);
/* 0 and *out for a number that is an integer in range, else -1. */
int		 value_number_int(const struct value *, long long *out);
/* The number as a double (0 when not a number). */
double		 value_number_double(const struct value *);

size_t		 value_list_len(const struct value *);	/* 0 unless list */
struct value	*value_list_get(const struct value *, size_t);

size_t		 value_object_len(const struct value *); /* 0 unless object */
const char	*value_object_key(const struct value *, size_t);
struct value	*value_object_value(const struct value *, size_t);
/* NULL when obj is not an object or has no such key. */
struct value	*value_object_get(const struct value *obj, const char *key);
/*
 * The same for a key looked up again and again (a template's names, at
 * every render): its hash, worked out once by value_key_hash(), saves
 * reading the key to hash it each time.
 */
uint32_t	 value_key_hash(const char *key);
struct value	*value_object_get_hashed(const struct value *obj,
		     const char *key, uint32_t hash);
/*
 * The value of the first key (in insertion order) that equals key when
 * ASCII letters are folded to one case ("Organisation", "organisation"),
 * or NULL.  A linear scan: for a lookup that missed exactly (template.c
 * does that for a newsletter's merge fields), not instead of one.
 */
struct value	*value_object_get_nocase(const struct value *obj,
		     const char *key);
/* 1 when a and b are equal with ASCII letters folded to one case. */
int		 value_key_equal_nocase(const char *a, const char *b);
/* The key's value when it is a string, else NULL. */
const char	*value_object_get_string(const struct value *obj,
		     const char *key);

/* True when s[0..len) is a JSON number (RFC 8259 section 6). */
int		 value_is_number_text(const char *s, size_t len);

#endif
