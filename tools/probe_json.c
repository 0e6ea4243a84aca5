/* SPDX-License-Identifier: MIT */
/*
 * `uffd probe --json`: the report as one JSON object.  Masks are given as
 * numbers (exact up to 2^64 for parsers that keep integers), as "0x..."
 * strings (for parsers that turn numbers into doubles) and as name lists.
 */
#include <stdbool.h>
#include <string.h>

#include "probe.h"

static void str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void key(FILE *out, const char *k)
{
	str(out, k);
	fputc(':', out);
}

/* "name": N, "name_hex": "0x..", "name_names": [..] */
static void mask(FILE *out, const char *name, uint64_t v, const char *(*namer)(int))
{
	char k[64];

	key(out, name);
	fprintf(out, "%llu,", (unsigned long long)v);
	snprintf(k, sizeof(k), "%s_hex", name);
	key(out, k);
	fprintf(out, "\"%#llx\",", (unsigned long long)v);
	snprintf(k, sizeof(k), "%s_names", name);
	key(out, k);
	fputc('[', out);
	const char *sep = "";
	for (int bit = 0; bit < 64; bit++) {
		if (!(v & ((uint64_t)1 << bit)))
			continue;
		char unnamed[16];
		snprintf(unnamed, sizeof(unnamed), "bit%d", bit);
		fputs(sep, out);
		str(out, namer(bit) ? namer(bit) : unnamed);
		sep = ",";
	}
	fputc(']', out);
}

static void error(FILE *out, int err)
{
	key(out, "errno");
	str(out, probe_errname(err));
	fputc(',', out);
	key(out, "error");
	str(out, strerror(err));
}

static void registrations(FILE *out, const struct probe_backend *b)
{
	key(out, "register");
	fputc('{', out);
	for (int mem = 0; mem < PROBE_NMEM; mem++) {
		if (mem)
			fputc(',', out);
		key(out, probe_mem_names[mem]);
		fputc('{', out);
		if (b->reg[mem][0].skipped) {
			key(out, "skipped");
			str(out, b->mem_why[mem]);
			fputc('}', out);
			continue;
		}
		for (int m = 0; m < PROBE_NMODE; m++) {
			const struct probe_reg *reg = &b->reg[mem][m];
			if (m)
				fputc(',', out);
			key(out, probe_mode_names[m]);
			fprintf(out, "{\"ok\":%s,", reg->ok ? "true" : "false");
			if (reg->ok)
				mask(out, "ioctls", reg->ioctls, probe_ioctl_name);
			else
				error(out, reg->err);
			fputc('}', out);
		}
		fputc('}', out);
	}
	fputc('}', out);
}

static void backend(FILE *out, const struct probe_backend *b)
{
	key(out, uffd_backend_name(b->backend));
	fprintf(out, "{\"available\":%s,", probe_works(b) ? "true" : "false");
	if (!b->info.available) {
		error(out, b->info.error);
		fputc(',', out);
		key(out, "why");
		str(out, b->info.why);
		fputc('}', out);
		return;
	}
	key(out, "how");
	str(out, b->info.how);
	if (!b->api_ok) {
		fputc(',', out);
		key(out, "failed");
		str(out, b->api_step);
		fputc(',', out);
		error(out, b->api_err);
		fputc('}', out);
		return;
	}
	fprintf(out, ",\"api\":%llu,", (unsigned long long)b->api);
	mask(out, "features", b->features, probe_feature_name);
	fputc(',', out);
	mask(out, "ioctls", b->ioctls, probe_ioctl_name);
	fputc(',', out);
	registrations(out, b);
	fputc('}', out);
}

/* "auto": what uffd_open(UFFD_BACKEND_AUTO) opened here ("backend": null
 * and "errno" when nothing), the UFFD_BACKEND it read, and why. */
static void auto_choice(FILE *out, const struct probe_report *r)
{
	key(out, "auto");
	fputc('{', out);
	key(out, "backend");
	if (r->auto_backend < 0) {
		fputs("null,", out);
		error(out, r->auto_err);
	} else {
		str(out, uffd_backend_name(r->auto_backend));
	}
	fputc(',', out);
	key(out, "env");
	if (r->auto_env)
		str(out, r->auto_env);
	else
		fputs("null", out);
	fputc(',', out);
	key(out, "reason");
	str(out, r->auto_reason);
	fputc('}', out);
}

void probe_print_json(FILE *out, const struct probe_report *r)
{
	bool ok = false;

	fputs("{\"backends\":{", out);
	for (int i = 0; i < PROBE_NBACKEND; i++) {
		if (i)
			fputc(',', out);
		backend(out, &r->b[i]);
		ok |= probe_works(&r->b[i]);
	}
	fputs("},", out);
	auto_choice(out, r);
	fprintf(out, ",\"ok\":%s}\n", ok ? "true" : "false");
}
