/* SPDX-License-Identifier: MIT */
/*
 * `uffd bench`: the scenarios of bench/ on both backends in one run.  Each
 * (scenario, backend) gets an unmeasured warm-up round where the scenario
 * asks for one, then -r measured rounds; the backends alternate within each
 * repetition (kernel first, then user first, ...), so that both see the same
 * noise.  Benchmarks report; they never fail on time.  Exit status 1 only
 * when a round failed (setup error, or a page that did not hold its content).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "commands.h"

static const char *volatile wd_what = "starting";

static void on_alarm(int sig)
{
	static const char msg[] = "uffd bench: watchdog: still running ";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 || write(2, wd_what, strlen(wd_what)) < 0 ||
	    write(2, "\n", 1) < 0)
		_exit(1);
	_exit(1);
}

static int usage(FILE *f)
{
	fprintf(f,
		"usage: uffd bench [-s LIST] [-n PAGES] [-r REPS] [--count N] [--sparse-gib G]\n"
		"                  [--postcopy-mib M] [--faulters N] [--handlers M]\n"
		"                  [--backend kernel|user|both] [--user-mode-only] [--quick]\n"
		"                  [-t SECONDS] [--json] [--list]\n"
		"\n"
		"Runs the scenarios on the kernel's userfaultfd and on the user backend,\n"
		"alternating within each repetition; prints best / median / worst of the\n"
		"repetitions for each backend and the ratio of the medians (user/kernel).\n"
		"Every round checks the pages it placed; timing never fails a run.\n"
		"\n"
		"  -s, --scenario LIST  comma-separated scenario names or prefixes (default: all)\n"
		"  -n, --pages N        pages per first-touch round (default 20000)\n"
		"  -r, --reps N         measured repetitions (default 5)\n"
		"      --count N        sparse: random touches (default 1000000)\n"
		"      --sparse-gib G   sparse: region size in GiB (default 16)\n"
		"      --postcopy-mib M postcopy: region size in MiB (default 1024)\n"
		"      --faulters N     postcopy: faulting threads (default 4)\n"
		"      --handlers M     postcopy: handler threads (default 4)\n"
		"      --backend B      kernel, user or both (default both)\n"
		"      --user-mode-only the kernel's userfaultfd opened with UFFD_USER_MODE_ONLY\n"
		"      --quick          -n 2000 -r 3 --count 20000 --postcopy-mib 64\n"
		"  -t, --watchdog S     exit 1 if the run takes longer than S seconds (default: none)\n"
		"      --json           one JSON object instead of the table\n"
		"  -l, --list           list the scenarios\n");
	return f == stdout ? 0 : 2;
}

static int select_scenarios(struct bench_run *r, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool any = false;
		for (size_t i = 0; i < bench_nscenarios; i++)
			if (!strcmp(tok, "all") ||
			    !strncmp(bench_scenarios[i].name, tok, strlen(tok)))
				r->want[i] = any = true;
		if (!any) {
			fprintf(stderr, "uffd bench: no scenario named '%s' (see --list)\n", tok);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static bool number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end || v < lo || v > hi) {
		fprintf(stderr, "uffd bench: '%s' is not a number in %ld..%ld\n", s, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static void probe_backends(struct bench_run *r)
{
	for (int b = 0; b < B_COUNT; b++) {
		struct uffd_backend_info info;
		int flags = O_CLOEXEC | (b == B_KERNEL && bench_opt.umo ? UFFD_USER_MODE_ONLY : 0);

		if (!r->backends[b])
			continue;
		snprintf(r->how[b], sizeof(r->how[b]), "-");
		if (uffd_backend_probe(bench_backend_id(b), flags, &info) == 0 && info.available)
			snprintf(r->how[b], sizeof(r->how[b]), "%s", info.how);
		int fd = uffd_open(flags, bench_backend_id(b));
		if (fd < 0) {
			snprintf(r->why[b], sizeof(r->why[b]), "unavailable: %s", uffd_strerror());
			continue;
		}
		struct uffdio_api api = { .api = UFFD_API };
		if (uffd_ioctl(fd, UFFDIO_API, &api) == 0) {
			r->avail[b] = true;
			r->features[b] = api.features;
		} else {
			snprintf(r->why[b], sizeof(r->why[b]), "UFFDIO_API: %s", strerror(errno));
		}
		close(fd);
	}
}

static void run_all(struct bench_run *r)
{
	for (size_t i = 0; i < bench_nscenarios; i++) {
		const struct scenario *sc = &bench_scenarios[i];
		const int nb = sc->no_uffd ? 1 : B_COUNT;

		if (!r->want[i])
			continue;
		for (int b = 0; b < nb; b++) {
			struct cell *c = &r->cells[i][b];
			c->s = calloc((size_t)bench_opt.reps, sizeof(*c->s));
			if (!c->s) {
				perror("uffd bench");
				exit(1);
			}
			if (!sc->no_uffd && !r->backends[b]) {
				c->status = C_UNAVAILABLE;
				snprintf(c->why, sizeof(c->why), "not asked for");
			} else if (!sc->no_uffd && !r->avail[b]) {
				c->status = C_UNAVAILABLE;
				snprintf(c->why, sizeof(c->why), "%s", r->why[b]);
			}
		}
		for (int rep = sc->warmup ? -1 : 0; rep < bench_opt.reps; rep++)
			for (int k = 0; k < nb; k++) {
				const int b = (rep & 1) && nb == 2 ? 1 - k : k;
				struct cell *c = &r->cells[i][b];
				struct sample s = { 0 };
				char err[224] = "";

				if (c->status != C_OK)
					continue;
				wd_what = sc->name;
				int ret = sc->run(sc, b, &s, err, sizeof(err));
				if (ret != BENCH_OK) {
					c->status = ret == BENCH_UNSUPPORTED ? C_UNSUPPORTED : C_FAILED;
					snprintf(c->why, sizeof(c->why), "%s", err);
					if (ret != BENCH_UNSUPPORTED)
						fprintf(stderr, "uffd bench: %s on %s: %s\n", sc->name,
							sc->no_uffd ? "no uffd" : b ? "user" : "kernel", err);
					continue;
				}
				if (rep >= 0)
					c->s[c->n++] = s;
			}
		for (int b = 0; b < nb; b++)
			bench_summarize(sc, &r->cells[i][b]);
	}
}

int cmd_bench(int argc, char **argv)
{
	enum { O_COUNT = 256, O_GIB, O_MIB, O_FAULTERS, O_HANDLERS, O_BACKEND, O_UMO,
	       O_QUICK, O_JSON };
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, O_COUNT },
		{ "sparse-gib", required_argument, NULL, O_GIB },
		{ "postcopy-mib", required_argument, NULL, O_MIB },
		{ "faulters", required_argument, NULL, O_FAULTERS },
		{ "handlers", required_argument, NULL, O_HANDLERS },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "user-mode-only", no_argument, NULL, O_UMO },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "watchdog", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, O_JSON },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bench_run run;
	struct bench_run *r = &run;
	const char *list = "all";
	bool json = false;
	long v, watchdog = 0;
	int opt;

	bench_opt = (struct bench_opts){ .pages = 20000, .reps = 5, .count = 1000000,
					 .sparse_gib = 16, .post_mib = 1024,
					 .post_faulters = 4, .post_handlers = 4 };
	r->backends[B_KERNEL] = r->backends[B_USER] = true;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:n:r:t:lh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': list = optarg; break;
		case 'n': if (!number(optarg, 16, 1 << 22, &v)) return 2; bench_opt.pages = (size_t)v; break;
		case 'r': if (!number(optarg, 1, 1000, &v)) return 2; bench_opt.reps = (int)v; break;
		case O_COUNT: if (!number(optarg, 1, 1L << 30, &v)) return 2; bench_opt.count = v; break;
		case O_GIB: if (!number(optarg, 1, 1024, &v)) return 2; bench_opt.sparse_gib = (unsigned)v; break;
		case O_MIB: if (!number(optarg, 1, 1 << 20, &v)) return 2; bench_opt.post_mib = (unsigned)v; break;
		case O_FAULTERS: if (!number(optarg, 1, 16, &v)) return 2; bench_opt.post_faulters = (int)v; break;
		case O_HANDLERS: if (!number(optarg, 1, 16, &v)) return 2; bench_opt.post_handlers = (int)v; break;
		case O_BACKEND:
			if (strcmp(optarg, "both")) {
				r->backends[B_KERNEL] = !strcmp(optarg, "kernel");
				r->backends[B_USER] = !strcmp(optarg, "user");
				if (!r->backends[B_KERNEL] && !r->backends[B_USER]) {
					fprintf(stderr, "uffd bench: --backend kernel, user or both\n");
					return 2;
				}
			}
			break;
		case O_UMO: bench_opt.umo = true; break;
		case O_QUICK:
			bench_opt.pages = 2000, bench_opt.reps = 3, bench_opt.count = 20000;
			bench_opt.post_mib = 64;
			break;
		case 't': if (!number(optarg, 0, 1 << 20, &watchdog)) return 2; break;
		case O_JSON: json = true; break;
		case 'l':
			for (size_t i = 0; i < bench_nscenarios; i++)
				printf("%-20s %s\n", bench_scenarios[i].name, bench_scenarios[i].help);
			return 0;
		case 'h': return usage(stdout);
		default: return usage(stderr);
		}
	}
	if (optind != argc)
		return usage(stderr);
	if (select_scenarios(r, list) < 0)
		return 2;

	char command[512] = "uffd";
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(command);
		snprintf(command + len, sizeof(command) - len, " %s", argv[i]);
	}
	r->command = command;
	bench_page = (size_t)sysconf(_SC_PAGESIZE);
	if (watchdog) {
		signal(SIGALRM, on_alarm);
		alarm((unsigned)watchdog);
	}
	probe_backends(r);
	run_all(r);
	alarm(0);
	if (json)
		bench_print_json(stdout, r);
	else
		bench_print_table(stdout, r);
	int failed = 0;
	for (size_t i = 0; i < bench_nscenarios; i++)
		for (int b = 0; b < B_COUNT; b++) {
			failed |= r->cells[i][b].status == C_FAILED;
			free(r->cells[i][b].s);
		}
	return fflush(stdout) || failed ? 1 : 0;
}
