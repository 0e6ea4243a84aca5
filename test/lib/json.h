/* SPDX-License-Identifier: MIT */
/* A small strict JSON reader for tests that check machine-readable output. */
#ifndef LIBUFFD_TEST_JSON_H
#define LIBUFFD_TEST_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	int boolean;
	int is_uint;              /* a non-negative integer that fits uint */
	unsigned long long uint;
	double number;
	char *string;             /* JSON_STRING, decoded (UTF-8) */
	char *key;                /* the member name inside an object */
	struct json *kids;        /* array elements / object members, in order */
	struct json *next;
	size_t len;               /* number of kids */
};

/* Parse exactly one value (whitespace around it allowed); NULL and err[] on error. */
struct json *json_parse(const char *text, char *err, size_t errlen);
/* A member by dotted path ("a.b.c"), or NULL; each step must be an object. */
const struct json *json_path(const struct json *v, const char *path);
/* The i-th element of an array, or NULL. */
const struct json *json_at(const struct json *v, size_t i);
void json_free(struct json *v);

#endif
