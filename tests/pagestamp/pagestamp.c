// SPDX-License-Identifier: GPL-2.0
/*
 * pagestamp: stores an increasing counter into the first word of each of
 * PAGES pages of its own memory, round robin, as fast as the CPU goes, for
 * SECONDS seconds; then prints how many rounds it did and exits.
 *
 * A lab guest runs it during a live migration to find out whether the
 * destination received every page the source wrote. Under TCG, a store
 * through a TLB entry that QEMU made "fast" after the page was dirty does
 * not mark the page dirty again; a migration whose bitmap sync clears the
 * page's bit without resetting those entries (QEMU 7.2, fixed by
 * qemu-patches/0004) never sends the later stores. The loop does nothing
 * that switches the guest's address space (the clock is read every 4096
 * rounds through the vDSO, or a system call, which does not), so its TLB
 * entries stay in place for as long as the migration runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_WORDS (4096 / sizeof(unsigned long))

static void usage(FILE *f)
{
	fprintf(f, "usage: pagestamp [--pages N] [--seconds S]\n"
		"  --pages N    pages to write, round robin (default 256, 1-65536)\n"
		"  --seconds S  how long (default 30, 1-3600)\n");
}

static int parse(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return !errno && *s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long pages = 256, seconds = 30, i;
	volatile unsigned long *buf;
	unsigned long n = 0;
	double end;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (i + 1 < argc && !strcmp(argv[i], "--pages") &&
		    !parse(argv[i + 1], 1, 65536, &pages)) {
			i++;
		} else if (i + 1 < argc && !strcmp(argv[i], "--seconds") &&
			   !parse(argv[i + 1], 1, 3600, &seconds)) {
			i++;
		} else {
			fprintf(stderr, "pagestamp: bad argument '%s%s%s'\n", argv[i],
				i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
			usage(stderr);
			return 2;
		}
	}
	buf = aligned_alloc(4096, pages * 4096);
	if (!buf) {
		fprintf(stderr, "pagestamp: no memory for %ld pages\n", pages);
		return 1;
	}
	end = now() + seconds;
	for (;;) {
		for (i = 0; i < pages; i++)
			buf[i * PAGE_WORDS] = n;
		if (!(++n & 4095) && now() >= end)
			break;
	}
	printf("%lu rounds over %ld pages in %ld s\n", n, pages, seconds);
	return 0;
}
