/* SPDX-License-Identifier: MIT */
/* `uffd probe`: the report as aligned tables, one column per working backend. */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static void print_auto(FILE *out, const struct probe_report *r);

static void print_backends(FILE *out, const struct probe_report *r)
{
	fprintf(out, "%-8s %-12s %s\n", "BACKEND", "STATUS", "HOW, OR WHY NOT");
	for (int i = 0; i < PROBE_NBACKEND; i++) {
		const struct probe_backend *b = &r->b[i];
		const char *name = uffd_backend_name(b->backend);

		if (probe_works(b))
			fprintf(out, "%-8s %-12s %s\n", name, "available", b->info.how);
		else if (b->info.available)
			fprintf(out, "%-8s %-12s opened (%s) but %s failed: %s\n", name,
				"broken", b->info.how, b->api_step, probe_errname(b->api_err));
		else
			fprintf(out, "%-8s %-12s %s: %s\n", name, "unavailable",
				probe_errname(b->info.error), b->info.why);
	}
	print_auto(out, r);
}

/* What UFFD_BACKEND_AUTO (and so a program that does not choose) opens here, and why. */
static void print_auto(FILE *out, const struct probe_report *r)
{
	char status[24];

	if (r->auto_backend < 0)
		snprintf(status, sizeof(status), "unavailable");
	else
		snprintf(status, sizeof(status), "-> %s", uffd_backend_name(r->auto_backend));
	fprintf(out, "%-8s %-12s %s\n", "auto", status, r->auto_reason);
}

/* The header of a table whose columns are the working backends. */
static void header(FILE *out, const struct probe_report *r, const char *first,
		   const char *second, int width)
{
	fprintf(out, "\n%-32s %4s", first, second);
	for (int i = 0; i < PROBE_NBACKEND; i++)
		if (probe_works(&r->b[i]))
			fprintf(out, "  %-*s", width, uffd_backend_name(r->b[i].backend));
	fputc('\n', out);
}

static void print_api(FILE *out, const struct probe_report *r)
{
	static const char *const rows[] = { "api", "features", "ioctls" };

	header(out, r, "UFFDIO_API (features 0)", "", 18);
	for (int row = 0; row < 3; row++) {
		fprintf(out, "%-32s %4s", rows[row], "");
		for (int i = 0; i < PROBE_NBACKEND; i++) {
			const struct probe_backend *b = &r->b[i];
			uint64_t v = row == 0 ? b->api : row == 1 ? b->features : b->ioctls;
			if (probe_works(b))
				fprintf(out, "  %#-18llx", (unsigned long long)v);
		}
		fputc('\n', out);
	}
}

/* One row per named bit, and per unnamed bit that some backend reports. */
static void print_bits(FILE *out, const struct probe_report *r, const char *title,
		       const char *(*name)(int), int features)
{
	header(out, r, title, "BIT", 8);
	for (int bit = 0; bit < 64; bit++) {
		uint64_t any = 0;
		for (int i = 0; i < PROBE_NBACKEND; i++)
			if (probe_works(&r->b[i]))
				any |= features ? r->b[i].features : r->b[i].ioctls;
		if (!name(bit) && !(any & ((uint64_t)1 << bit)))
			continue;
		char unnamed[16];
		snprintf(unnamed, sizeof(unnamed), "bit %d", bit);
		fprintf(out, "%-32s %4d", name(bit) ? name(bit) : unnamed, bit);
		for (int i = 0; i < PROBE_NBACKEND; i++) {
			const struct probe_backend *b = &r->b[i];
			uint64_t v = features ? b->features : b->ioctls;
			if (probe_works(b))
				fprintf(out, "  %-8s", v & ((uint64_t)1 << bit) ? "yes" : "no");
		}
		fputc('\n', out);
	}
}

/* "WAKE COPY ..." for an ioctls mask. */
static void ioctl_list(FILE *out, uint64_t mask)
{
	const char *sep = "";

	for (int bit = 0; bit < 64; bit++) {
		if (!(mask & ((uint64_t)1 << bit)))
			continue;
		const char *n = probe_ioctl_name(bit);
		if (n)
			fprintf(out, "%s%s", sep, n + strlen("_UFFDIO_"));
		else
			fprintf(out, "%sbit%d", sep, bit);
		sep = " ";
	}
}

static void print_register(FILE *out, const struct probe_backend *b)
{
	fprintf(out, "\nUFFDIO_REGISTER on the %s backend (after UFFDIO_API with features 0)\n",
		uffd_backend_name(b->backend));
	fprintf(out, "%-8s %-11s %-10s %-20s %s\n", "MEMORY", "MODE", "RESULT",
		"IOCTLS", "(_UFFDIO_* bits)");
	for (int mem = 0; mem < PROBE_NMEM; mem++) {
		if (b->reg[mem][0].skipped) {
			fprintf(out, "%-8s %-11s %s\n", probe_mem_names[mem], "-",
				b->mem_why[mem]);
			continue;
		}
		for (int m = 0; m < PROBE_NMODE; m++) {
			const struct probe_reg *reg = &b->reg[mem][m];
			fprintf(out, "%-8s %-11s ", probe_mem_names[mem], probe_mode_names[m]);
			if (!reg->ok) {
				fprintf(out, "%s\n", probe_errname(reg->err));
				continue;
			}
			fprintf(out, "%-10s %#-20llx ", "ok", (unsigned long long)reg->ioctls);
			ioctl_list(out, reg->ioctls);
			fputc('\n', out);
		}
	}
}

static void print_tables(FILE *out, const struct probe_report *r)
{
	int any = 0;

	print_backends(out, r);
	for (int i = 0; i < PROBE_NBACKEND; i++)
		any |= probe_works(&r->b[i]);
	if (!any)
		return;
	print_api(out, r);
	print_bits(out, r, "FEATURE", probe_feature_name, 1);
	print_bits(out, r, "IOCTL (from UFFDIO_API)", probe_ioctl_name, 0);
	for (int i = 0; i < PROBE_NBACKEND; i++)
		if (probe_works(&r->b[i]))
			print_register(out, &r->b[i]);
}

/* Columns are padded with printf widths; drop the padding left at line ends. */
void probe_print_table(FILE *out, const struct probe_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem) {
		print_tables(out, r);
		return;
	}
	print_tables(mem, r);
	fclose(mem);
	for (char *line = buf, *nl; line < buf + len; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = buf + len;
		char *end = nl;
		while (end > line && end[-1] == ' ')
			end--;
		fprintf(out, "%.*s\n", (int)(end - line), line);
	}
	free(buf);
}
