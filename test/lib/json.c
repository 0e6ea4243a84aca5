/* SPDX-License-Identifier: MIT */
/* A small strict JSON reader (RFC 8259), recursive descent; see json.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *p;
	const char *start;
	char *err;
	size_t errlen;
	int depth;
};

static struct json *fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ps->err, ps->errlen, "offset %td: ",
			 ps->p - ps->start);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < ps->errlen)
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
	return NULL;
}

static void ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static struct json *node(enum json_type type)
{
	struct json *v = calloc(1, sizeof(*v));

	if (v)
		v->type = type;
	return v;
}

static int hex4(const char *s, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		*out = *out * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
					       : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	return 0;
}

static size_t utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | (c >> 6 & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | (c >> 12 & 0x3f));
	o[2] = (char)(0x80 | (c >> 6 & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* A string at ps->p (the opening quote); decoded into a new buffer. */
static char *string(struct parser *ps)
{
	/* Decoding never lengthens: \uXXXX is 6 characters for at most 3 bytes. */
	char *out = malloc(strlen(++ps->p) + 1), *o = out;
	if (!out)
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			free(out);
			fail(ps, c ? "control character in a string" : "unterminated string");
			return NULL;
		}
		ps->p++;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		char e = *ps->p++;
		unsigned u, lo;
		switch (e) {
		case '"': case '\\': case '/': *o++ = e; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(ps->p, &u))
				goto bad;
			ps->p += 4;
			if (u >= 0xd800 && u < 0xdc00 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
			    !hex4(ps->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				ps->p += 6;
			}
			o += utf8(o, u);
			break;
		default:
			goto bad;
		}
	}
	ps->p++;
	*o = 0;
	return out;
bad:
	free(out);
	fail(ps, "bad escape in a string");
	return NULL;
}

static struct json *number(struct parser *ps)
{
	const char *s = ps->p, *q = s;
	int integer = 1;

	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (isdigit((unsigned char)*q))
		while (isdigit((unsigned char)*q))
			q++;
	else
		return fail(ps, "bad number");
	if (*q == '.') {
		integer = 0;
		if (!isdigit((unsigned char)*++q))
			return fail(ps, "bad fraction");
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		integer = 0;
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return fail(ps, "bad exponent");
		while (isdigit((unsigned char)*q))
			q++;
	}
	struct json *v = node(JSON_NUMBER);
	if (!v)
		return fail(ps, "out of memory");
	v->number = strtod(s, NULL);
	if (integer && *s != '-') {
		errno = 0;
		v->uint = strtoull(s, NULL, 10);
		v->is_uint = errno == 0;
	}
	ps->p = q;
	return v;
}

static struct json *value(struct parser *ps);

/* Array or object: the elements/members after the opening bracket. */
static struct json *compound(struct parser *ps, int object)
{
	struct json *v = node(object ? JSON_OBJECT : JSON_ARRAY), **tail;
	const char close = object ? '}' : ']';

	if (!v)
		return fail(ps, "out of memory");
	tail = &v->kids;
	ps->p++;
	ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		ws(ps);
		if (object) {
			if (*ps->p != '"')
				goto bad;
			key = string(ps);
			if (!key)
				goto out;
			ws(ps);
			if (*ps->p++ != ':') {
				free(key);
				ps->p--;
				fail(ps, "expected ':'");
				goto out;
			}
		}
		struct json *kid = value(ps);
		if (!kid) {
			free(key);
			goto out;
		}
		kid->key = key;
		*tail = kid;
		tail = &kid->next;
		v->len++;
		ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return v;
		}
		goto bad;
	}
bad:
	fail(ps, "expected %s", object ? "a member, ',' or '}'" : "',' or ']'");
out:
	json_free(v);
	return NULL;
}

static struct json *literal(struct parser *ps, const char *word, enum json_type t, int b)
{
	size_t n = strlen(word);

	if (strncmp(ps->p, word, n))
		return fail(ps, "unexpected character '%c'", *ps->p);
	struct json *v = node(t);
	if (!v)
		return fail(ps, "out of memory");
	v->boolean = b;
	ps->p += n;
	return v;
}

static struct json *value(struct parser *ps)
{
	struct json *v;

	ws(ps);
	if (++ps->depth > 100)
		return fail(ps, "nested too deep");
	switch (*ps->p) {
	case '{': v = compound(ps, 1); break;
	case '[': v = compound(ps, 0); break;
	case '"':
		v = node(JSON_STRING);
		if (v && !(v->string = string(ps))) {
			free(v);
			v = NULL;
		}
		break;
	case 't': v = literal(ps, "true", JSON_BOOL, 1); break;
	case 'f': v = literal(ps, "false", JSON_BOOL, 0); break;
	case 'n': v = literal(ps, "null", JSON_NULL, 0); break;
	default: v = number(ps); break;
	}
	ps->depth--;
	return v;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = { .p = text, .start = text, .err = err, .errlen = errlen };
	struct json *v = value(&ps);

	if (!v)
		return NULL;
	ws(&ps);
	if (*ps.p) {
		json_free(v);
		return fail(&ps, "text after the value");
	}
	return v;
}

const struct json *json_path(const struct json *v, const char *path)
{
	while (v && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const struct json *k = NULL;

		if (v->type != JSON_OBJECT)
			return NULL;
		for (k = v->kids; k; k = k->next)
			if (strlen(k->key) == n && !strncmp(k->key, path, n))
				break;
		v = k;
		path += n + (dot != NULL);
	}
	return v;
}

const struct json *json_at(const struct json *v, size_t i)
{
	if (!v || v->type != JSON_ARRAY)
		return NULL;
	const struct json *k = v->kids;
	while (k && i--)
		k = k->next;
	return k;
}

void json_free(struct json *v)
{
	while (v) {
		struct json *next = v->next;
		json_free(v->kids);
		free(v->string);
		free(v->key);
		free(v);
		v = next;
	}
}
