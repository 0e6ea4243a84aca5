/* SPDX-License-Identifier: MIT */
/* `uffd bench`: the spread of each cell, the table and the JSON object. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_summarize(const struct scenario *sc, struct cell *c)
{
	double v[1000];

	if (c->status != C_OK || !c->n)
		return;
	for (int i = 0; i < c->n; i++)
		v[i] = c->s[i].v;
	c->med = median(v, c->n);
	c->best = sc->higher_better ? v[c->n - 1] : v[0];
	c->worst = sc->higher_better ? v[0] : v[c->n - 1];
	for (int x = 0; x < BENCH_EXTRAS; x++) {
		for (int i = 0; i < c->n; i++)
			v[i] = c->s[i].x[x];
		c->xmed[x] = median(v, c->n);
	}
}

static bool measured(const struct cell *c)
{
	return c->status == C_OK && c->n > 0;
}

double bench_ratio(const struct bench_run *r, size_t i)
{
	const struct cell *k = &r->cells[i][B_KERNEL], *u = &r->cells[i][B_USER];

	if (bench_scenarios[i].no_uffd || !measured(k) || !measured(u) || k->med <= 0)
		return 0;
	return u->med / k->med;
}

static const char *status_name(enum cell_status s)
{
	static const char *const names[] = { "ok", "unavailable", "unsupported", "failed" };
	return names[s];
}

static void machine(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	snprintf(buf, len, "%ld CPUs, Linux %s %s, page %zu", sysconf(_SC_NPROCESSORS_ONLN),
		 u.release, u.machine, bench_page);
}

static void number(FILE *f, double v)
{
	if (v >= 1000)
		fprintf(f, "%9.0f", v);
	else
		fprintf(f, "%9.2f", v);
}

void bench_print_table(FILE *f, const struct bench_run *r)
{
	char m[256];

	machine(m, sizeof(m));
	fprintf(f, "%s\n%s; %d repetitions; kernel uffd via %s, user backend via %s\n",
		r->command, m, bench_opt.reps, r->how[B_KERNEL], r->how[B_USER]);
	fprintf(f, "%-19s %-9s %-29s %-29s %s\n", "scenario", "unit",
		"kernel: best median worst", "user: best median worst", "user/kernel");
	for (size_t i = 0; i < bench_nscenarios; i++) {
		const struct scenario *sc = &bench_scenarios[i];
		if (!r->want[i])
			continue;
		fprintf(f, "%-19s %-9s", sc->name, sc->unit);
		for (int b = 0; b < (sc->no_uffd ? 1 : B_COUNT); b++) {
			const struct cell *c = &r->cells[i][b];
			if (measured(c)) {
				fputc(' ', f);
				number(f, c->best);
				number(f, c->med);
				number(f, c->worst);
				fputs(" ", f);
			} else {
				fprintf(f, " %-28.28s ", c->why);
			}
		}
		if (sc->no_uffd)
			fprintf(f, " (no uffd)");
		else if (bench_ratio(r, i) > 0)
			fprintf(f, " %.2f", bench_ratio(r, i));
		fputc('\n', f);
		for (int x = 0; x < BENCH_EXTRAS && sc->extra[x]; x++) {
			fprintf(f, "  %-27s", sc->extra[x]);
			for (int b = 0; b < B_COUNT; b++) {
				const struct cell *c = &r->cells[i][b];
				if (measured(c))
					fprintf(f, "%20.0f (median)       ", c->xmed[x]);
				else
					fprintf(f, "%29s ", "-");
			}
			fputc('\n', f);
		}
	}
	for (size_t i = 0; i < bench_nscenarios; i++)
		for (int b = 0; b < B_COUNT; b++)
			if (r->want[i] && r->cells[i][b].status == C_FAILED)
				fprintf(f, "FAILED %s on %s: %s\n", bench_scenarios[i].name,
					b ? "user" : "kernel", r->cells[i][b].why);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_cell(FILE *f, const struct scenario *sc, const struct cell *c)
{
	fprintf(f, "{\"status\":\"%s\"", status_name(c->status));
	if (!measured(c)) {
		fprintf(f, ",\"why\":");
		json_str(f, c->why);
		fputc('}', f);
		return;
	}
	fprintf(f, ",\"best\":%.4g,\"median\":%.4g,\"worst\":%.4g,\"samples\":[",
		c->best, c->med, c->worst);
	for (int i = 0; i < c->n; i++)
		fprintf(f, "%s%.4g", i ? "," : "", c->s[i].v);
	fputc(']', f);
	for (int x = 0; x < BENCH_EXTRAS && sc->extra[x]; x++)
		fprintf(f, ",\"%s\":%.6g", sc->extra[x], c->xmed[x]);
	fputc('}', f);
}

void bench_print_json(FILE *f, const struct bench_run *r)
{
	char m[256];

	machine(m, sizeof(m));
	fprintf(f, "{\"bench\":\"uffd bench\",\"command\":");
	json_str(f, r->command);
	fprintf(f, ",\"machine\":");
	json_str(f, m);
	fprintf(f, ",\"reps\":%d,\"pages\":%zu,\"count\":%ld,\"sparse_gib\":%u,"
		"\"postcopy_mib\":%u,\"faulters\":%d,\"handlers\":%d,\"user_mode_only\":%s,"
		"\"backends\":{", bench_opt.reps, bench_opt.pages, bench_opt.count,
		bench_opt.sparse_gib, bench_opt.post_mib, bench_opt.post_faulters,
		bench_opt.post_handlers, bench_opt.umo ? "true" : "false");
	for (int b = 0; b < B_COUNT; b++) {
		fprintf(f, "%s\"%s\":{\"available\":%s,\"how\":", b ? "," : "",
			b ? "user" : "kernel", r->avail[b] ? "true" : "false");
		json_str(f, r->avail[b] ? r->how[b] : r->why[b]);
		fprintf(f, ",\"features\":%llu}", r->features[b]);
	}
	fprintf(f, "},\"results\":[");
	bool first = true;
	for (size_t i = 0; i < bench_nscenarios; i++) {
		const struct scenario *sc = &bench_scenarios[i];
		if (!r->want[i])
			continue;
		fprintf(f, "%s{\"scenario\":\"%s\",\"unit\":\"%s\",\"higher_is_better\":%s,",
			first ? "" : ",", sc->name, sc->unit, sc->higher_better ? "true" : "false");
		first = false;
		if (sc->no_uffd) {
			fprintf(f, "\"none\":");
			json_cell(f, sc, &r->cells[i][B_KERNEL]);
		} else {
			fprintf(f, "\"kernel\":");
			json_cell(f, sc, &r->cells[i][B_KERNEL]);
			fprintf(f, ",\"user\":");
			json_cell(f, sc, &r->cells[i][B_USER]);
			if (bench_ratio(r, i) > 0)
				fprintf(f, ",\"user_over_kernel\":%.3f", bench_ratio(r, i));
			else
				fprintf(f, ",\"user_over_kernel\":null");
		}
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}
