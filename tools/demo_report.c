/* SPDX-License-Identifier: MIT */
/* `uffd demo`'s output: the progress line, the table, the JSON object. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

double demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int progress_shown;

/* On a terminal (stderr), at most every 1/64 of the work. */
void demo_progress(const char *what, uint64_t done, uint64_t total)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!tty || !total)
		return;
	uint64_t step = total / 64 ? total / 64 : 1;
	if (done % step && done != total)
		return;
	fprintf(stderr, "\r\033[K%s: %3u%%", what, (unsigned)(done * 100 / total));
	progress_shown = 1;
}

void demo_progress_end(void)
{
	if (progress_shown)
		fprintf(stderr, "\r\033[K");
	progress_shown = 0;
}

static void ns(char *buf, size_t len, uint64_t v)
{
	if (v >= 10000000)
		snprintf(buf, len, "%.0f ms", (double)v / 1e6);
	else if (v >= 10000)
		snprintf(buf, len, "%.0f us", (double)v / 1e3);
	else
		snprintf(buf, len, "%.1f us", (double)v / 1e3);
}

int demo_all_matched(const struct demo_report *rep)
{
	int ran = 0;

	for (int i = 0; i < rep->n; i++) {
		if (!rep->r[i].ran)
			continue;
		ran++;
		if (rep->r[i].bad_pages || rep->r[i].errors)
			return 0;
	}
	return ran > 0;
}

void demo_print_table(const struct demo_report *rep)
{
	printf("\n%-15s %13s %11s %8s %14s %11s %10s %10s  %s\n", "restore", "first access",
	       "total", "vs eager", "pages faulted", "read ahead", "fault p50", "fault p99",
	       "bytes");
	double eager = rep->r[0].ran ? rep->r[0].total_ms : 0;
	for (int i = 0; i < rep->n; i++) {
		const struct demo_result *r = &rep->r[i];
		if (!r->ran) {
			printf("%-15s not run: %s\n", r->name, r->why);
			continue;
		}
		char first[32], total[32], ratio[16] = "", p50[16] = "-", p99[16] = "-",
		     faulted[24] = "-", ahead[24] = "-";
		snprintf(first, sizeof(first), "%.2f ms", r->first_ms);
		snprintf(total, sizeof(total), "%.0f ms", r->total_ms);
		if (eager > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r->total_ms / eager);
		if (r->lazy) {
			ns(p50, sizeof(p50), r->p50_ns);
			ns(p99, sizeof(p99), r->p99_ns);
			snprintf(faulted, sizeof(faulted), "%llu", (unsigned long long)r->faulted);
			snprintf(ahead, sizeof(ahead), "%llu", (unsigned long long)r->read_ahead);
		}
		printf("%-15s %13s %11s %8s %14s %11s %10s %10s  %s\n", r->name, first, total, ratio,
		       faulted, ahead, p50, p99,
		       r->bad_pages || r->errors ? "DIFFER" : "match");
	}
	if (!rep->source) {
		printf("\nfirst access: from the start of the restore to the first byte read;\n"
		       "total: the restore and the workload (random pages, then every page, each checked).\n");
		return;
	}
	printf("\n%-15s %8s %9s %12s %9s %11s %22s %10s %16s\n", "restore", "net MB", "requests",
	       "working set", "recorded", "prefetched", "hits (faults avoided)", "in flight",
	       "faults vs cold");
	for (int i = 0; i < rep->n; i++) {
		const struct demo_result *r = &rep->r[i];
		char ws[24] = "-", rec[24] = "-", pf[24] = "-", hits[32] = "-", late[24] = "-",
		     vs[32] = "-";
		if (!r->ran)
			continue;
		if (r->lazy)
			snprintf(ws, sizeof(ws), "%llu", (unsigned long long)r->working_set);
		if (r->lazy && !r->warm)
			snprintf(rec, sizeof(rec), "%llu", (unsigned long long)r->recorded);
		if (r->warm) {
			snprintf(pf, sizeof(pf), "%llu", (unsigned long long)r->prefetched);
			snprintf(hits, sizeof(hits), "%llu (%.0f%%)", (unsigned long long)r->hits,
				 r->working_set ? 100.0 * (double)r->hits / (double)r->working_set : 0.0);
			snprintf(late, sizeof(late), "%llu", (unsigned long long)r->late);
			snprintf(vs, sizeof(vs), "%llu (%.1f%%)", (unsigned long long)r->faults,
				 r->cold_faults ? 100.0 * (double)r->faults / (double)r->cold_faults : 0.0);
		}
		printf("%-15s %8.1f %9llu %12s %9s %11s %22s %10s %16s\n", r->name,
		       (double)r->net_bytes / (1 << 20), (unsigned long long)r->requests, ws, rec, pf,
		       hits, late, vs);
	}
	printf("\nfirst access: from the start of the restore to the first byte read;\n"
	       "total: the restore and the working set (1/16 of the pages at random, each\n"
	       "checked; every page is checked after the timing).  cold: recording the pages\n"
	       "the faults asked for; warm: prefetching that record while the workload runs.\n"
	       "net MB, requests: what the store sent back during the timed part, commands sent;\n"
	       "hits: pages the prefetch installed before the workload touched them, so they\n"
	       "raised no fault (%% of the working set); in flight: faults that waited for the\n"
	       "prefetch; faults vs cold: the warm restore's faults (%% of the cold one's).\n");
}

/* s as a JSON string's content. */
static void json_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
}

void demo_print_json(const struct demo_report *rep)
{
	printf("{\"snapshot\":\"");
	json_str(rep->source ? rep->source : rep->path);
	if (rep->source)
		printf("\",\"source\":true,\"pushed\":%s", rep->pushed ? "true" : "false");
	else
		printf("\"");
	printf(",\"size\":%llu,\"created\":%s,\"create_s\":%.3f,"
	       "\"threads\":%u,\"restores\":[", (unsigned long long)rep->size,
	       rep->created ? "true" : "false", rep->create_s, rep->threads);
	for (int i = 0; i < rep->n; i++) {
		const struct demo_result *r = &rep->r[i];
		printf("%s{\"name\":\"%s\",\"lazy\":%s,\"ran\":%s", i ? "," : "", r->name,
		       r->lazy ? "true" : "false", r->ran ? "true" : "false");
		if (!r->ran) {
			printf(",\"why\":\"");
			json_str(r->why);
			printf("\"}");
			continue;
		}
		printf(",\"first_access_ms\":%.3f,\"total_ms\":%.3f,\"bad_pages\":%llu,"
		       "\"errors\":%llu", r->first_ms, r->total_ms,
		       (unsigned long long)r->bad_pages, (unsigned long long)r->errors);
		if (r->lazy)
			printf(",\"pages_faulted\":%llu,\"pages_read_ahead\":%llu,"
			       "\"fault_p50_ns\":%llu,\"fault_p99_ns\":%llu",
			       (unsigned long long)r->faulted, (unsigned long long)r->read_ahead,
			       (unsigned long long)r->p50_ns, (unsigned long long)r->p99_ns);
		if (r->store)
			printf(",\"net_bytes\":%llu,\"requests\":%llu",
			       (unsigned long long)r->net_bytes, (unsigned long long)r->requests);
		if (r->store && r->lazy)
			printf(",\"warm\":%s,\"working_set\":%llu,\"recorded\":%llu,"
			       "\"pages_prefetched\":%llu,\"prefetch_hits\":%llu,\"prefetch_late\":%llu,"
			       "\"faults\":%llu,\"cold_faults\":%llu", r->warm ? "true" : "false",
			       (unsigned long long)r->working_set, (unsigned long long)r->recorded,
			       (unsigned long long)r->prefetched, (unsigned long long)r->hits,
			       (unsigned long long)r->late, (unsigned long long)r->faults,
			       (unsigned long long)r->cold_faults);
		printf("}");
	}
	printf("],\"every_byte_matched\":%s}\n", demo_all_matched(rep) ? "true" : "false");
}
