// SPDX-License-Identifier: GPL-2.0
/*
 * vcost - what a workload costs the guest in its own CPU time.
 *
 * busy = elapsed - idle over the workload, both read from /proc/timer_list
 * ("now at", and every CPU's idle_sleeptime and iowait_sleeptime, in ns:
 * /proc/stat rounds them to 10 ms). Under QEMU's -icount shift=0 a guest
 * nanosecond is one instruction and an idle guest's clock jumps to its
 * next timer (sleep=off), so busy is the instructions the guest ran for
 * the workload and its interrupts, softirqs and wake-ups, whatever the
 * host's load (make bench, the cost_* scenarios).
 *
 * Modes (each prints one JSON object as its last line on stdout):
 *   run -- CMD...   CMD's cost (CMD's own output comes first)
 *   udp-send        a UDP sender as an application has it: sendmmsg of
 *                   --batch datagrams of --size bytes, --count in all; or,
 *                   with --gap-us, one at a time with a pause between
 *                   (the peer's sender when the guest's receive is measured:
 *                   each datagram then arrives alone, so its cost does not
 *                   depend on how the host happened to batch them); or,
 *                   with --gso, super-datagrams the stack segments (UDP GSO)
 *   udp-recv        a UDP reader (recvmmsg) until an empty datagram, which
 *                   udp-send sends three of at its end
 *   tcp-send        one TCP connection writing --bytes, until the peer closes
 *   tcp-sink        (the peer's side) accepts one connection, reads it to
 *                   its end, closes
 *
 * Linked statically: the same binary runs in the lab's guest and its peer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VC_MAX_SIZE	65507
#define VC_MAX_BATCH	1024
#define VC_CHUNK	65536

struct vc_times {
	uint64_t now_ns;
	uint64_t idle_ns;	/* idle and iowait, every CPU */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: vcost run -- CMD [ARGS...]\n"
"       vcost udp-send --dst ADDR [--port P] [--size BYTES] --count N [--batch B]\n"
"                      [--gap-us US | --gso SEGMENT]\n"
"       vcost udp-recv [--port P] [--listen ADDR]\n"
"       vcost tcp-send --dst ADDR [--port P] --bytes N\n"
"       vcost tcp-sink [--port P] [--listen ADDR]\n"
"ADDR is IPv4 or IPv6; P defaults to 9 (udp) and 5001 (tcp); --size 64;\n"
"--batch 32 (at most %d). --gap-us: one datagram, then a sleep of US (not\n"
"made up for if late: no bursts), as the peer's paced sender for a receive\n"
"cost. --gso: UDP_SEGMENT, each datagram of --size leaves as SEGMENT-byte\n"
"ones (\"packets\" counts those). Prints {\"busy_ns\", \"elapsed_ns\", ...} last.\n",
		VC_MAX_BATCH);
}

/* vc_times_read: fills T from /proc/timer_list; false (errno set) if it
 * cannot be read or lacks the fields (a kernel without NO_HZ reports no
 * idle_sleeptime).
 */
static bool vc_times_read(struct vc_times *t)
{
	char line[512];
	unsigned long long v;
	bool have_now = false, have_idle = false;
	FILE *f = fopen("/proc/timer_list", "re");

	if (!f)
		return false;
	t->idle_ns = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!have_now && sscanf(line, "now at %llu nsecs", &v) == 1) {
			t->now_ns = v;
			have_now = true;
		} else if (sscanf(line, " .idle_sleeptime : %llu nsecs", &v) == 1 ||
			   sscanf(line, " .iowait_sleeptime: %llu nsecs", &v) == 1) {
			t->idle_ns += v;
			have_idle = true;
		}
	}
	fclose(f);
	if (!have_now || !have_idle) {
		errno = ENODATA;
		return false;
	}
	return true;
}

static int vc_start(struct vc_times *t)
{
	if (vc_times_read(t))
		return 0;
	fprintf(stderr, "vcost: /proc/timer_list: %s (needs root and NO_HZ)\n",
		strerror(errno));
	return -1;
}

/* vc_report: prints the JSON line for the interval since START, with
 * EXTRA (already formatted members, or "") appended.
 */
static int vc_report(const struct vc_times *start, const char *extra)
{
	struct vc_times end;
	uint64_t elapsed, idle;

	if (vc_start(&end))
		return -1;
	elapsed = end.now_ns - start->now_ns;
	idle = end.idle_ns - start->idle_ns;
	printf("{\"busy_ns\": %" PRIu64 ", \"elapsed_ns\": %" PRIu64
	       ", \"idle_ns\": %" PRIu64 "%s}\n",
	       idle < elapsed ? elapsed - idle : 0, elapsed, idle, extra);
	fflush(stdout);
	return 0;
}

/* vc_end: reports the interval since START, closes FD; the exit code. */
static int vc_end(int fd, const struct vc_times *start, const char *extra)
{
	int err = vc_report(start, extra);

	close(fd);
	return err ? 1 : 0;
}

static int vc_run(char **argv)
{
	struct vc_times start;
	char extra[64];
	int status;
	pid_t pid;

	fflush(stdout);
	if (vc_start(&start))
		return 1;
	pid = fork();
	if (pid < 0) {
		perror("vcost: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "vcost: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("vcost: waitpid");
		return 1;
	}
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(extra, sizeof(extra), ", \"status\": %d", status);
	if (vc_report(&start, extra))
		return 1;
	return status;
}

/* vc_addr: ADDR and PORT into SS; its length, or 0 if ADDR is neither
 * an IPv4 nor an IPv6 address.
 */
static socklen_t vc_addr(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	return 0;
}

static int vc_udp_send(const struct sockaddr_storage *ss, socklen_t len,
		       long size, long count, int batch, long gap_us, int gso)
{
	struct timespec gap = { gap_us / 1000000, gap_us % 1000000 * 1000 };
	static struct mmsghdr msgs[VC_MAX_BATCH];
	static struct iovec iov[VC_MAX_BATCH];
	static char payload[VC_MAX_SIZE];
	struct vc_times start;
	char extra[64];
	long sent = 0;
	int fd, i, n;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len)) {
		perror("vcost: udp socket");
		return 1;
	}
	if (gso && setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &gso, sizeof(gso))) {
		perror("vcost: UDP_SEGMENT");
		goto err_close;
	}
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = payload;
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (gap_us)
		batch = 1;
	if (vc_start(&start))
		goto err_close;
	while (sent < count) {
		n = count - sent < batch ? count - sent : batch;
		n = sendmmsg(fd, msgs, n, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("vcost: sendmmsg");
			goto err_close;
		}
		sent += n;
		if (gap_us)
			nanosleep(&gap, NULL);
	}
	snprintf(extra, sizeof(extra), ", \"packets\": %ld",
		 gso ? sent * ((size + gso - 1) / gso) : sent);
	if (vc_report(&start, extra))
		goto err_close;
	/* The end, for a udp-recv (outside what was measured). */
	for (i = 0; i < 3; i++)
		send(fd, payload, 0, 0);
	close(fd);
	return 0;

err_close:
	close(fd);
	return 1;
}

static int vc_udp_recv(const struct sockaddr_storage *ss, socklen_t len)
{
	static struct mmsghdr msgs[VC_MAX_BATCH];
	static struct iovec iov[VC_MAX_BATCH];
	static char buf[64][2048];
	struct vc_times start;
	char extra[64];
	long got = 0;
	bool end = false;
	int fd, i, n;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, len)) {
		perror("vcost: udp-recv");
		return 1;
	}
	for (i = 0; i < 64; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (vc_start(&start))
		goto err_close;
	while (!end) {
		n = recvmmsg(fd, msgs, 64, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("vcost: recvmmsg");
			goto err_close;
		}
		for (i = 0; i < n; i++) {
			if (!msgs[i].msg_len)
				end = true;
			else if (!end)
				got++;
		}
	}
	snprintf(extra, sizeof(extra), ", \"packets\": %ld", got);
	return vc_end(fd, &start, extra);

err_close:
	close(fd);
	return 1;
}

static int vc_tcp_send(const struct sockaddr_storage *ss, socklen_t len, long long bytes)
{
	static char buf[VC_CHUNK];
	struct vc_times start;
	long long left = bytes;
	char extra[64];
	ssize_t n;
	int fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("vcost: tcp socket");
		return 1;
	}
	if (vc_start(&start))
		goto err_close;
	if (connect(fd, (const struct sockaddr *)ss, len)) {
		perror("vcost: connect");
		goto err_close;
	}
	while (left > 0) {
		n = write(fd, buf, left < VC_CHUNK ? left : VC_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("vcost: write");
			goto err_close;
		}
		left -= n;
	}
	/* Until the peer has it all: its close after our FIN says so. */
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	snprintf(extra, sizeof(extra), ", \"bytes\": %lld", bytes);
	return vc_end(fd, &start, extra);

err_close:
	close(fd);
	return 1;
}

static int vc_tcp_sink(const struct sockaddr_storage *ss, socklen_t len)
{
	static char buf[VC_CHUNK];
	long long got = 0;
	int one = 1, lfd, fd;
	ssize_t n;

	lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (const struct sockaddr *)ss, len) || listen(lfd, 1)) {
		perror("vcost: tcp-sink");
		return 1;
	}
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	if (fd < 0) {
		perror("vcost: accept");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		got += n > 0 ? n : 0;
	close(fd);
	printf("{\"bytes\": %lld}\n", got);
	return n < 0;
}

/* vc_num: ARG as a number in [MIN, MAX], or exits with usage. */
static long long vc_num(const char *opt, const char *arg, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "vcost: --%s must be %lld-%lld, not '%s'\n", opt, min, max, arg);
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "bytes", required_argument, NULL, 'B' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ "gso", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *mode, *dst = NULL, *listen_addr = NULL;
	long long count = -1, bytes = -1;
	long size = 64, port = -1, gap_us = 0;
	int batch = 32, gso = 0, opt;
	struct sockaddr_storage ss;
	socklen_t len;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	if (!strcmp(mode, "run")) {
		if (argc < 4 || strcmp(argv[2], "--")) {
			usage(stderr);
			return 2;
		}
		return vc_run(argv + 3);
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dst = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'p': port = vc_num("port", optarg, 1, 65535); break;
		case 's': size = vc_num("size", optarg, 0, VC_MAX_SIZE); break;
		case 'c': count = vc_num("count", optarg, 1, 1LL << 40); break;
		case 'b': batch = vc_num("batch", optarg, 1, VC_MAX_BATCH); break;
		case 'B': bytes = vc_num("bytes", optarg, 1, 1LL << 40); break;
		case 'g': gap_us = vc_num("gap-us", optarg, 1, 10000000); break;
		case 'G': gso = vc_num("gso", optarg, 1, 9000); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vcost: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!strcmp(mode, "tcp-sink") || !strcmp(mode, "udp-recv")) {
		len = vc_addr(listen_addr ? listen_addr : "::",
			      port < 0 ? (mode[0] == 'u' ? 9 : 5001) : port, &ss);
		if (!len) {
			fprintf(stderr, "vcost: --listen '%s' is no IP address\n", listen_addr);
			return 2;
		}
		return mode[0] == 'u' ? vc_udp_recv(&ss, len) : vc_tcp_sink(&ss, len);
	}
	if (strcmp(mode, "udp-send") && strcmp(mode, "tcp-send")) {
		fprintf(stderr, "vcost: unknown mode '%s'\n", mode);
		usage(stderr);
		return 2;
	}
	len = dst ? vc_addr(dst, port < 0 ? (mode[0] == 'u' ? 9 : 5001) : port, &ss) : 0;
	if (!len) {
		fprintf(stderr, "vcost: --dst ADDR (IPv4 or IPv6) is required\n");
		usage(stderr);
		return 2;
	}
	if (mode[0] == 'u') {
		if (count < 0) {
			fprintf(stderr, "vcost: udp-send needs --count\n");
			return 2;
		}
		if (gso && gap_us) {
			fprintf(stderr, "vcost: --gso and --gap-us do not go together\n");
			return 2;
		}
		return vc_udp_send(&ss, len, size, count, batch, gap_us, gso);
	}
	if (bytes < 0) {
		fprintf(stderr, "vcost: tcp-send needs --bytes\n");
		return 2;
	}
	return vc_tcp_send(&ss, len, bytes);
}
