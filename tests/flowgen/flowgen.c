// SPDX-License-Identifier: GPL-2.0
/*
 * flowgen - sequence-numbered UDP flows for failover loss accounting.
 *
 * The sender paces datagrams at a fixed rate with absolute deadlines, so a
 * stall (a datapath switch, a migration) does not shift the schedule: the
 * packets due during the stall are sent late, not dropped, and the receiver
 * sees them as a gap in arrival time. Every datagram carries a flow id, a
 * sequence number and the sender's CLOCK_MONOTONIC timestamp. The sender ends
 * with a few FIN datagrams carrying the total it sent, so the receiver can
 * tell loss at the tail from a flow that simply stopped.
 *
 * The receiver keeps a bitmap of the sequence numbers it saw and reports,
 * as one JSON object: received, unique, lost, duplicated, reordered, the
 * longest gap between arrivals, the first runs of lost sequence numbers
 * (lost_ranges), and optionally a timeline of arrivals per bin.
 *
 * It is linked statically so the same binary runs in the lab guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FG_MAGIC_DATA	0x56465047u	/* "VFPG" */
#define FG_MAGIC_FIN	0x56465046u	/* "VFPF" */
#define FG_FIN_COPIES	5
#define FG_FIN_SPACING_NS	10000000LL
#define FG_MAX_SIZE	9000
#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MSEC	1000000LL

/* On the wire, all fields big endian. For FIN, seq holds the total sent. */
struct fg_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t tx_ns;
};

static volatile sig_atomic_t fg_stop;

static void fg_on_signal(int sig)
{
	(void)sig;
	fg_stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t be64(uint64_t v)
{
	return ((uint64_t)htonl((uint32_t)v) << 32) | htonl((uint32_t)(v >> 32));
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: flowgen send --dst ADDR [--port P] [--rate PPS] [--duration S | --count N]\n"
"                    [--size BYTES] [--flow ID] [--out FILE]\n"
"       flowgen recv [--listen ADDR] [--port P] [--duration S] [--idle-ms MS]\n"
"                    [--expect N] [--flow ID] [--bin-ms MS --timeline FILE]\n"
"                    [--ready FILE] [--out FILE]\n"
"ADDR is a numeric IPv4 or IPv6 address. Reports are one JSON object on stdout\n"
"(or FILE). send stops after --count packets, --duration seconds or SIGTERM;\n"
"recv stops on the sender's FIN, after --duration, after --idle-ms without\n"
"packets once one arrived, or on SIGTERM/SIGINT.\n");
}

struct fg_opts {
	const char *addr;
	const char *out;
	const char *ready;
	const char *timeline;
	unsigned int port;
	double rate;
	double duration;
	uint64_t count;
	uint64_t expect;
	unsigned int size;
	unsigned int flow;
	unsigned int idle_ms;
	unsigned int bin_ms;
};

static int parse_u64(const char *s, uint64_t *v, uint64_t max)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *v > max || s[0] == '-')
		return -1;
	return 0;
}

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || *v < 0)
		return -1;
	return 0;
}

/* Fills @ss from a numeric address; returns its length or 0 if invalid. */
static socklen_t fg_sockaddr(const char *addr, unsigned int port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	return 0;
}

static FILE *fg_open_out(const char *path)
{
	FILE *f;

	if (!path)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "flowgen: cannot write %s: %s\n", path,
			strerror(errno));
	return f;
}

static int fg_send(const struct fg_opts *o)
{
	uint64_t sent = 0, errors = 0, late = 0, seq = 0;
	int64_t start, next, interval, end = 0, t;
	struct sockaddr_storage ss;
	unsigned char buf[FG_MAX_SIZE];
	struct fg_hdr *h = (struct fg_hdr *)buf;
	int last_errno = 0, fd, i;
	struct timespec ts;
	socklen_t slen;
	FILE *out;

	slen = fg_sockaddr(o->addr, o->port, &ss);
	if (!slen) {
		fprintf(stderr, "flowgen: --dst '%s' is not a numeric IPv4/IPv6 address\n",
			o->addr);
		return 2;
	}
	if (o->rate <= 0 || o->rate > 1000000) {
		fprintf(stderr, "flowgen: --rate must be in (0, 1000000]\n");
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("flowgen: socket");
		return 1;
	}
	/* A subnet's broadcast address is a destination like any other. */
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &(int){ 1 }, sizeof(int))) {
		perror("flowgen: SO_BROADCAST");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	interval = (int64_t)(NSEC_PER_SEC / o->rate);
	start = now_ns();
	next = start;
	if (o->duration > 0)
		end = start + (int64_t)(o->duration * NSEC_PER_SEC);

	while (!fg_stop) {
		if (o->count && seq >= o->count)
			break;
		if (end && next >= end)
			break;
		ts.tv_sec = next / NSEC_PER_SEC;
		ts.tv_nsec = next % NSEC_PER_SEC;
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			continue;	/* a signal: re-check fg_stop */
		t = now_ns();
		if (t - next > interval)
			late++;
		h->magic = htonl(FG_MAGIC_DATA);
		h->flow = htonl(o->flow);
		h->seq = be64(seq);
		h->tx_ns = be64((uint64_t)t);
		if (sendto(fd, buf, o->size, 0, (struct sockaddr *)&ss, slen) < 0) {
			errors++;
			last_errno = errno;
		} else {
			sent++;
		}
		seq++;
		next += interval;
	}

	h->magic = htonl(FG_MAGIC_FIN);
	h->flow = htonl(o->flow);
	h->seq = be64(seq);
	for (i = 0; i < FG_FIN_COPIES; i++) {
		h->tx_ns = be64((uint64_t)now_ns());
		sendto(fd, buf, sizeof(*h), 0, (struct sockaddr *)&ss, slen);
		ts.tv_sec = 0;
		ts.tv_nsec = FG_FIN_SPACING_NS;
		nanosleep(&ts, NULL);
	}
	close(fd);

	out = fg_open_out(o->out);
	if (!out)
		return 1;
	fprintf(out,
		"{\"role\": \"send\", \"flow\": %u, \"dst\": \"%s\", \"port\": %u, "
		"\"rate\": %.0f, \"size\": %u, \"attempted\": %" PRIu64 ", "
		"\"sent\": %" PRIu64 ", \"send_errors\": %" PRIu64 ", "
		"\"last_error\": \"%s\", \"late\": %" PRIu64 ", "
		"\"elapsed_ms\": %.3f}\n",
		o->flow, o->addr, o->port, o->rate, o->size, seq, sent, errors,
		last_errno ? strerror(last_errno) : "", late,
		(double)(now_ns() - start) / NSEC_PER_MSEC);
	if (out != stdout)
		fclose(out);
	return 0;
}

struct fg_rx {
	uint8_t *seen;		/* bitmap of sequence numbers */
	uint64_t seen_bits;
	uint64_t received, unique, dups, reordered, foreign;
	uint64_t highest;	/* highest seq + 1 */
	uint64_t fin_total;
	bool fin;
	int64_t first_ns, last_ns, max_gap_ns, max_gap_at_ns;
	uint32_t *bins;
	size_t nbins;
	int64_t bin_ns;
};

static int fg_rx_mark(struct fg_rx *rx, uint64_t seq)
{
	uint64_t need;
	uint8_t *p;
	bool was;

	if (seq >= rx->seen_bits) {
		need = rx->seen_bits ? rx->seen_bits : 65536;
		while (need <= seq)
			need *= 2;
		if (need > (1ULL << 36))
			return -1;	/* absurd seq: treat as foreign */
		p = realloc(rx->seen, need / 8);
		if (!p)
			return -1;
		memset(p + rx->seen_bits / 8, 0, (need - rx->seen_bits) / 8);
		rx->seen = p;
		rx->seen_bits = need;
	}
	was = rx->seen[seq / 8] & (1u << (seq % 8));
	rx->seen[seq / 8] |= 1u << (seq % 8);
	return was;
}

static bool fg_rx_seen(const struct fg_rx *rx, uint64_t seq)
{
	return seq < rx->seen_bits && (rx->seen[seq / 8] & (1u << (seq % 8)));
}

/* The first FG_LOST_RANGES runs of sequence numbers below @expected not seen. */
#define FG_LOST_RANGES	16
static void fg_print_lost_ranges(FILE *out, const struct fg_rx *rx, uint64_t expected)
{
	uint64_t seq = 0, first;
	int n = 0;

	fputs("[", out);
	while (seq < expected && n < FG_LOST_RANGES) {
		if (fg_rx_seen(rx, seq)) {
			seq++;
			continue;
		}
		first = seq;
		while (seq < expected && !fg_rx_seen(rx, seq))
			seq++;
		fprintf(out, "%s[%" PRIu64 ", %" PRIu64 "]", n ? ", " : "", first, seq - 1);
		n++;
	}
	fputs("]", out);
}

static void fg_rx_bin(struct fg_rx *rx, int64_t t)
{
	size_t i, n;
	uint32_t *p;

	if (!rx->bin_ns)
		return;
	i = (size_t)((t - rx->first_ns) / rx->bin_ns);
	if (i >= rx->nbins) {
		n = rx->nbins ? rx->nbins : 1024;
		while (n <= i)
			n *= 2;
		p = realloc(rx->bins, n * sizeof(*p));
		if (!p)
			return;
		memset(p + rx->nbins, 0, (n - rx->nbins) * sizeof(*p));
		rx->bins = p;
		rx->nbins = n;
	}
	rx->bins[i]++;
}

static void fg_rx_data(struct fg_rx *rx, uint64_t seq, int64_t t)
{
	int was;

	rx->received++;
	if (!rx->first_ns)
		rx->first_ns = t;
	else if (t - rx->last_ns > rx->max_gap_ns) {
		rx->max_gap_ns = t - rx->last_ns;
		rx->max_gap_at_ns = rx->last_ns - rx->first_ns;
	}
	rx->last_ns = t;
	fg_rx_bin(rx, t);

	was = fg_rx_mark(rx, seq);
	if (was < 0) {
		rx->foreign++;
		return;
	}
	if (was) {
		rx->dups++;
		return;
	}
	rx->unique++;
	if (seq + 1 < rx->highest)
		rx->reordered++;
	else
		rx->highest = seq + 1;
}

static int fg_write_timeline(const struct fg_opts *o, const struct fg_rx *rx)
{
	size_t i, last = 0;
	FILE *f;

	f = fopen(o->timeline, "w");
	if (!f) {
		fprintf(stderr, "flowgen: cannot write %s: %s\n", o->timeline,
			strerror(errno));
		return -1;
	}
	for (i = 0; i < rx->nbins; i++)
		if (rx->bins[i])
			last = i;
	fprintf(f, "# ms_since_first_packet packets_in_%ums_bin\n", o->bin_ms);
	for (i = 0; rx->nbins && i <= last; i++)
		fprintf(f, "%zu %u\n", i * o->bin_ms, rx->bins[i]);
	fclose(f);
	return 0;
}

static int fg_recv(const struct fg_opts *o)
{
	int64_t start, end = 0, t, timeout_ms, fin_at = 0;
	const char *addr = o->addr ? o->addr : "::";
	unsigned char buf[FG_MAX_SIZE + 1];
	struct fg_hdr *h = (struct fg_hdr *)buf;
	struct sockaddr_storage ss;
	struct fg_rx rx = { 0 };
	uint64_t expected;
	const char *ended;
	struct pollfd pfd;
	int fd, off = 0, rcvbuf = 4 << 20;
	socklen_t slen;
	ssize_t n;
	FILE *out;

	slen = fg_sockaddr(addr, o->port, &ss);
	if (!slen) {
		fprintf(stderr, "flowgen: --listen '%s' is not a numeric IPv4/IPv6 address\n",
			addr);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("flowgen: socket");
		return 1;
	}
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	/*
	 * A guest stalled by a migration gets a burst when it resumes: take
	 * it all (FORCE, as root, passes rmem_max), so that what flowgen
	 * counts as lost was lost by the network, not by this socket.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&ss, slen) < 0) {
		fprintf(stderr, "flowgen: bind %s port %u: %s\n", addr, o->port,
			strerror(errno));
		close(fd);
		return 1;
	}
	if (o->ready) {
		out = fopen(o->ready, "w");
		if (out)
			fclose(out);
	}
	rx.bin_ns = (int64_t)o->bin_ms * NSEC_PER_MSEC;
	start = now_ns();
	if (o->duration > 0)
		end = start + (int64_t)(o->duration * NSEC_PER_SEC);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ended = "signal";

	for (;;) {
		if (fg_stop)
			break;
		t = now_ns();
		if (end && t >= end) {
			ended = "duration";
			break;
		}
		/* After FIN, linger briefly for reordered stragglers. */
		if (fin_at && t - fin_at > 100 * NSEC_PER_MSEC) {
			ended = "fin";
			break;
		}
		if (o->idle_ms && rx.last_ns &&
		    t - rx.last_ns > (int64_t)o->idle_ms * NSEC_PER_MSEC) {
			ended = "idle";
			break;
		}
		timeout_ms = 20;
		if (poll(&pfd, 1, (int)timeout_ms) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < (ssize_t)sizeof(*h))
			continue;
		t = now_ns();
		if (ntohl(h->flow) != o->flow) {
			rx.foreign++;
			continue;
		}
		if (ntohl(h->magic) == FG_MAGIC_FIN) {
			rx.fin = true;
			rx.fin_total = be64(h->seq);
			if (!fin_at)
				fin_at = t;
		} else if (ntohl(h->magic) == FG_MAGIC_DATA) {
			fg_rx_data(&rx, be64(h->seq), t);
		} else {
			rx.foreign++;
		}
	}
	close(fd);

	if (o->expect)
		expected = o->expect;
	else if (rx.fin)
		expected = rx.fin_total;
	else
		expected = rx.highest;
	out = fg_open_out(o->out);
	if (!out)
		return 1;
	fprintf(out,
		"{\"role\": \"recv\", \"flow\": %u, \"port\": %u, \"ended\": \"%s\", "
		"\"fin\": %s, \"expected\": %" PRIu64 ", \"received\": %" PRIu64 ", "
		"\"unique\": %" PRIu64 ", \"lost\": %" PRId64 ", "
		"\"duplicated\": %" PRIu64 ", \"reordered\": %" PRIu64 ", "
		"\"foreign\": %" PRIu64 ", \"max_gap_ms\": %.3f, "
		"\"max_gap_at_ms\": %.3f, \"span_ms\": %.3f, \"lost_ranges\": ",
		o->flow, o->port, ended, rx.fin ? "true" : "false", expected,
		rx.received, rx.unique, (int64_t)(expected - rx.unique),
		rx.dups, rx.reordered, rx.foreign,
		(double)rx.max_gap_ns / NSEC_PER_MSEC,
		(double)rx.max_gap_at_ns / NSEC_PER_MSEC,
		rx.first_ns ? (double)(rx.last_ns - rx.first_ns) / NSEC_PER_MSEC : 0.0);
	fg_print_lost_ranges(out, &rx, expected);
	fputs("}\n", out);
	if (out != stdout)
		fclose(out);
	if (o->timeline && fg_write_timeline(o, &rx))
		return 1;
	free(rx.seen);
	free(rx.bins);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dst",	required_argument, NULL, 'd' },
		{ "listen",	required_argument, NULL, 'l' },
		{ "port",	required_argument, NULL, 'p' },
		{ "rate",	required_argument, NULL, 'r' },
		{ "duration",	required_argument, NULL, 't' },
		{ "count",	required_argument, NULL, 'c' },
		{ "expect",	required_argument, NULL, 'e' },
		{ "size",	required_argument, NULL, 's' },
		{ "flow",	required_argument, NULL, 'f' },
		{ "idle-ms",	required_argument, NULL, 'i' },
		{ "bin-ms",	required_argument, NULL, 'b' },
		{ "timeline",	required_argument, NULL, 'T' },
		{ "ready",	required_argument, NULL, 'R' },
		{ "out",	required_argument, NULL, 'o' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fg_opts o = {
		.port = 5201, .rate = 1000, .size = 64, .flow = 1,
	};
	struct sigaction sa = { .sa_handler = fg_on_signal };
	const char *mode;
	uint64_t v;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		usage(stdout);
		return 0;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'l':
			o.addr = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &v, 65535) || !v)
				goto bad;
			o.port = (unsigned int)v;
			break;
		case 'r':
			if (parse_double(optarg, &o.rate))
				goto bad;
			break;
		case 't':
			if (parse_double(optarg, &o.duration))
				goto bad;
			break;
		case 'c':
			if (parse_u64(optarg, &o.count, UINT64_MAX))
				goto bad;
			break;
		case 'e':
			if (parse_u64(optarg, &o.expect, UINT64_MAX))
				goto bad;
			break;
		case 's':
			if (parse_u64(optarg, &v, FG_MAX_SIZE) ||
			    v < sizeof(struct fg_hdr))
				goto bad;
			o.size = (unsigned int)v;
			break;
		case 'f':
			if (parse_u64(optarg, &v, UINT32_MAX))
				goto bad;
			o.flow = (unsigned int)v;
			break;
		case 'i':
			if (parse_u64(optarg, &v, 3600000))
				goto bad;
			o.idle_ms = (unsigned int)v;
			break;
		case 'b':
			if (parse_u64(optarg, &v, 60000) || !v)
				goto bad;
			o.bin_ms = (unsigned int)v;
			break;
		case 'T':
			o.timeline = optarg;
			break;
		case 'R':
			o.ready = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "flowgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o.timeline && !o.bin_ms)
		o.bin_ms = 10;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!strcmp(mode, "send")) {
		if (!o.addr) {
			fprintf(stderr, "flowgen: send needs --dst\n");
			return 2;
		}
		if (!o.count && !o.duration) {
			fprintf(stderr, "flowgen: send needs --count or --duration\n");
			return 2;
		}
		return fg_send(&o);
	}
	if (!strcmp(mode, "recv"))
		return fg_recv(&o);
	fprintf(stderr, "flowgen: unknown mode '%s' (send or recv)\n", mode);
	usage(stderr);
	return 2;
bad:
	fprintf(stderr, "flowgen: invalid value '%s' for an option\n", optarg);
	usage(stderr);
	return 2;
}
