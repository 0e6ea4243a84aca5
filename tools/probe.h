/* SPDX-License-Identifier: MIT */
/* `uffd probe`: what it measures (probe_collect.c) and how it prints it. */
#ifndef UFFD_TOOLS_PROBE_H
#define UFFD_TOOLS_PROBE_H

#include <stdint.h>
#include <stdio.h>

#include "uffd.h"

enum probe_mem { PROBE_ANON, PROBE_SHMEM, PROBE_HUGETLB, PROBE_NMEM };
#define PROBE_NMODE 4           /* MISSING, WP, MINOR, MISSING|WP */
#define PROBE_NBACKEND 2        /* kernel, user */

/* One UFFDIO_REGISTER attempt on one kind of memory in one mode. */
struct probe_reg {
	int skipped;            /* not tried: see probe_backend.mem_why[] */
	int ok;                 /* UFFDIO_REGISTER succeeded */
	int err;                /* its errno when not */
	uint64_t ioctls;        /* uffdio_register.ioctls when it did */
};

struct probe_backend {
	enum uffd_backend backend;
	struct uffd_backend_info info;  /* from uffd_backend_probe() */
	int api_ok;                     /* UFFDIO_API with features 0 succeeded */
	int api_err;                    /* errno of api_step when it failed */
	const char *api_step;           /* "uffd_open" or "UFFDIO_API" */
	uint64_t api, features, ioctls; /* what UFFDIO_API wrote back */
	struct probe_reg reg[PROBE_NMEM][PROBE_NMODE];
	char mem_why[PROBE_NMEM][96];   /* why a kind of memory was not tried */
};

struct probe_report {
	struct probe_backend b[PROBE_NBACKEND];
	/* What uffd_open(UFFD_BACKEND_AUTO) opens here: a backend, or -1 (the
	 * errno in auto_err); auto_env: UFFD_BACKEND; auto_reason: why, in
	 * words (the table and the JSON print the same sentence). */
	int auto_backend, auto_err;
	char auto_reason[320];
	const char *auto_env;
};

/* Fill the report; uses only uffd_backend_probe(), uffd_open(), uffd_ioctl(). */
void probe_collect(struct probe_report *r);
/* 1 when the backend opened and answered UFFDIO_API. */
int probe_works(const struct probe_backend *b);

/* Names. */
extern const char *const probe_mem_names[PROBE_NMEM];   /* "anon", "shmem", "hugetlb" */
extern const uint64_t probe_modes[PROBE_NMODE];
extern const char *const probe_mode_names[PROBE_NMODE]; /* "MISSING", ..., "MISSING|WP" */
/* "UFFD_FEATURE_MOVE" for bit 16, "_UFFDIO_COPY" for bit 3, NULL if unnamed. */
const char *probe_feature_name(int bit);
const char *probe_ioctl_name(int bit);
/* "EINVAL" for EINVAL, "errno N" if unknown (static buffer). */
const char *probe_errname(int err);

/* Output. */
void probe_print_table(FILE *out, const struct probe_report *r);
void probe_print_json(FILE *out, const struct probe_report *r);

#endif
