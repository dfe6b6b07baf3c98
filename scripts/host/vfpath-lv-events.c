// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath-lv-events - what libvirt lets a client see of a migration.
 *
 * `virsh migrate` owns QEMU's monitor: the source's STOP (the guest paused
 * for the last pass), the MIGRATION states and the destination's RESUME
 * reach another client only as libvirt events. vfpath-migrate's libvirt
 * back-end runs this beside `virsh migrate`: it subscribes on the source
 * daemon to one domain's QEMU events and lifecycle events, on the
 * destination daemon to the same domain's (which appears there only once
 * the migration starts), and prints each as one JSON line in QMP's shape
 * ({"event", "timestamp", "data"}) with "host": "src" or "dst". QEMU events
 * (STOP, RESUME, MIGRATION, DEVICE_DELETED) carry QEMU's own timestamp;
 * libvirt's LIFECYCLE and DEVICE_REMOVED {alias}, and ON_STOP, carry this
 * host's clock at arrival (both CLOCK_REALTIME, so comparable).
 *
 * With --move-mac/--to-port it moves the guest's MAC to the destination's
 * bridge port the moment the source's STOP arrives, in this process (the
 * host network's switch-over, as vfpath-qmp's "on STOP move"), and reports
 * FDB_MOVED {mac, port[, error]}. With --on-stop it runs a command then,
 * without waiting for it, and reports ON_STOP {status, started_ms} when
 * it ends.
 *
 * Everything runs in libvirt's default event loop on one thread; SIGCHLD
 * and SIGTERM reach it through a self-pipe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfpath-fdb.h"

#define EXIT_LIBVIRT	1
#define EXIT_USAGE	2
#define EXIT_HOOK	3
#define EXIT_TIMEOUT	124

/* After SIGTERM: how long to wait for a late destination RESUME. */
#define DRAIN_MS	3000

struct watch {
	const char *domain;
	const char *on_stop;
	struct vfpath_fdb_move move;
	bool moving, move_failed;
	bool want_dst;
	pid_t hook_pid;
	int64_t hook_started_ms;
	int hook_rc;
	bool stop_seen, dst_resume_seen;
	bool stopping, done, lost;
	int64_t drain_until_ms;
	int rc;
};

/* One daemon's connection: which host it is, and the shared state. */
struct side {
	const char *host;		/* "src" or "dst" */
	struct watch *w;
};

static int sig_pipe[2] = { -1, -1 };

static int64_t epoch_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vfpath-lv-events --src URI --domain NAME [--dst URI] [--on-stop CMD]\n"
"                        [--move-mac MAC --to-port PORT [--netns NAME]]\n"
"                        [--ready FILE] [--timeout MS]\n"
"Prints, one JSON line each, domain NAME's QEMU events STOP, RESUME,\n"
"MIGRATION and DEVICE_DELETED and its libvirt events LIFECYCLE and\n"
"DEVICE_REMOVED on the libvirtd at --src, and the same on --dst, until\n"
"SIGTERM (then up to 3 s more for the destination's RESUME) or --timeout\n"
"(default 600000 ms).\n"
"  --on-stop CMD  run CMD (sh -c) the moment the source's STOP arrives, once,\n"
"                 without waiting; event ON_STOP when it ends\n"
"  --move-mac MAC --to-port PORT  at the source's STOP, before anything\n"
"                 else, move MAC to bridge port PORT (bridge fdb replace\n"
"                 ... master dynamic, by netlink; in netns NAME with\n"
"                 --netns); event FDB_MOVED {mac, port[, error]}\n"
"  --ready FILE   created once subscribed: start the migration after that\n"
"Exit: 0 ok, 1 libvirt error, 2 usage, 3 the --on-stop command or the move failed,\n"
"124 timed out.\n");
}

static const char *lv_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown error";
}

/* print_event: one line; TS_US < 0 means "now, this host's clock". */
static void print_event(const char *host, const char *event, int64_t ts_us,
			struct json_object *data)
{
	struct json_object *o = json_object_new_object(), *ts;

	if (ts_us < 0)
		ts_us = epoch_us();
	ts = json_object_new_object();
	json_object_object_add(ts, "seconds", json_object_new_int64(ts_us / 1000000));
	json_object_object_add(ts, "microseconds",
			       json_object_new_int64(ts_us % 1000000));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "timestamp", ts);
	json_object_object_add(o, "host", json_object_new_string(host));
	if (data)
		json_object_object_add(o, "data", data);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void hook_start(struct watch *w)
{
	pid_t pid;

	fflush(stdout);
	w->hook_started_ms = epoch_us() / 1000;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vfpath-lv-events: fork: %s\n", strerror(errno));
		w->hook_rc = -1;
		return;
	}
	if (pid == 0) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", w->on_stop, (char *)NULL);
		_exit(127);
	}
	w->hook_pid = pid;
}

static void hook_reap(struct watch *w)
{
	struct json_object *d;
	int status;

	if (w->hook_pid <= 0 || waitpid(w->hook_pid, &status, WNOHANG) != w->hook_pid)
		return;
	w->hook_pid = 0;
	w->hook_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	d = json_object_new_object();
	json_object_object_add(d, "status", json_object_new_int(w->hook_rc));
	json_object_object_add(d, "started_ms",
			       json_object_new_int64(w->hook_started_ms));
	print_event("src", "ON_STOP", -1, d);
	if (w->hook_rc)
		fprintf(stderr, "vfpath-lv-events: --on-stop '%s' exited %d\n",
			w->on_stop, w->hook_rc);
}

/* The switch-over, in this process: no fork between STOP and the move. */
static void move_now(struct watch *w)
{
	struct json_object *d = json_object_new_object();
	char err[256];

	if (vfpath_fdb_do(&w->move, err, sizeof(err))) {
		w->move_failed = true;
		json_object_object_add(d, "error", json_object_new_string(err));
		fprintf(stderr, "vfpath-lv-events: --move-mac: %s\n", err);
	}
	json_object_object_add(d, "mac", json_object_new_string(w->move.mac_text));
	json_object_object_add(d, "port", json_object_new_string(w->move.port));
	print_event("src", "FDB_MOVED", -1, d);
}

/* Called for the source's and the destination's QEMU events alike. */
static void qemu_event(virConnectPtr conn, virDomainPtr dom, const char *event,
		       long long seconds, unsigned int micros,
		       const char *details, void *opaque)
{
	struct side *side = opaque;
	struct watch *w = side->w;
	const char *host = side->host;
	bool src = !strcmp(host, "src");
	int64_t ts = seconds < 0 ? -1 : (int64_t)seconds * 1000000 + micros;

	if (strcmp(virDomainGetName(dom), w->domain))
		return;
	if (src && !strcmp(event, "STOP") && !w->stop_seen) {
		w->stop_seen = true;
		if (w->moving)
			move_now(w);
		if (w->on_stop)
			hook_start(w);
	}
	if (!src && !strcmp(event, "RESUME"))
		w->dst_resume_seen = true;
	(void)conn;
	print_event(host, event, ts, details ? json_tokener_parse(details) : NULL);
}

static const char *const lifecycle_names[] = {
	"defined", "undefined", "started", "suspended", "resumed", "stopped",
	"shutdown", "pmsuspended", "crashed",
};

static int lifecycle_event(virConnectPtr conn, virDomainPtr dom, int event,
			   int detail, void *opaque)
{
	struct side *side = opaque;
	struct json_object *d;

	(void)conn;
	if (strcmp(virDomainGetName(dom), side->w->domain))
		return 0;
	d = json_object_new_object();
	json_object_object_add(d, "event", json_object_new_string(
		event >= 0 && event < (int)(sizeof(lifecycle_names) /
					    sizeof(lifecycle_names[0])) ?
		lifecycle_names[event] : "unknown"));
	json_object_object_add(d, "detail", json_object_new_int(detail));
	print_event(side->host, "LIFECYCLE", -1, d);
	return 0;
}

/* libvirt's word that a device is gone from the domain (a VF released). */
static void device_removed(virConnectPtr conn, virDomainPtr dom,
			   const char *alias, void *opaque)
{
	struct side *side = opaque;
	struct json_object *d;

	(void)conn;
	if (strcmp(virDomainGetName(dom), side->w->domain))
		return;
	d = json_object_new_object();
	json_object_object_add(d, "alias", json_object_new_string(alias));
	print_event(side->host, "DEVICE_REMOVED", -1, d);
}

static void conn_closed(virConnectPtr conn, int reason, void *opaque)
{
	struct side *side = opaque;

	(void)conn;
	fprintf(stderr, "vfpath-lv-events: the %s daemon closed the connection (reason %d)\n",
		side->host, reason);
	side->w->lost = true;
}

static void on_signal(int sig)
{
	char c = (char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

static void sig_readable(int watch_id, int fd, int events, void *opaque)
{
	struct watch *w = opaque;
	char c;

	(void)watch_id;
	(void)events;
	while (read(fd, &c, 1) == 1) {
		if (c == SIGCHLD) {
			hook_reap(w);
		} else if (!w->stopping) {
			w->stopping = true;
			w->drain_until_ms = epoch_us() / 1000 + DRAIN_MS;
		}
	}
}

static void tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

/*
 * subscribe: opens URI for SIDE and registers the callbacks. DOM is
 * looked up on the source (it must exist); on the destination every domain
 * is watched and filtered by name, since it appears there only later.
 */
static virConnectPtr subscribe(const char *uri, struct side *side)
{
	struct watch *w = side->w;
	virDomainPtr dom = NULL;
	virConnectPtr c;

	c = virConnectOpen(uri);
	if (!c) {
		fprintf(stderr, "vfpath-lv-events: cannot connect to %s: %s\n", uri,
			lv_error());
		return NULL;
	}
	if (!strcmp(side->host, "src")) {
		dom = virDomainLookupByName(c, w->domain);
		if (!dom) {
			fprintf(stderr, "vfpath-lv-events: no domain '%s' at %s\n",
				w->domain, uri);
			goto err_close;
		}
	}
	if (virConnectDomainQemuMonitorEventRegister(c, dom,
						     "^(STOP|RESUME|MIGRATION|DEVICE_DELETED)$",
						     qemu_event, side, NULL,
						     VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX) < 0 ||
	    virConnectDomainEventRegisterAny(c, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(lifecycle_event),
					     side, NULL) < 0 ||
	    virConnectDomainEventRegisterAny(c, dom, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
					     VIR_DOMAIN_EVENT_CALLBACK(device_removed),
					     side, NULL) < 0 ||
	    virConnectRegisterCloseCallback(c, conn_closed, side, NULL) < 0) {
		fprintf(stderr, "vfpath-lv-events: subscribing at %s: %s\n", uri,
			lv_error());
		goto err_free_dom;
	}
	if (dom)
		virDomainFree(dom);
	return c;

err_free_dom:
	if (dom)
		virDomainFree(dom);
err_close:
	virConnectClose(c);
	return NULL;
}

/* finished: SIGTERM came and nothing is left to wait for, or time is up. */
static bool finished(struct watch *w, int64_t deadline_ms)
{
	int64_t now = epoch_us() / 1000;

	if (w->lost)
		return true;
	if (now >= deadline_ms) {
		w->rc = EXIT_TIMEOUT;
		return true;
	}
	if (!w->stopping || w->hook_pid > 0)
		return false;
	return !w->want_dst || w->dst_resume_seen || !w->stop_seen ||
	       now >= w->drain_until_ms;
}

static void silent(void *opaque, virErrorPtr err)
{
	(void)opaque;
	(void)err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "domain", required_argument, NULL, 'n' },
		{ "on-stop", required_argument, NULL, 'o' },
		{ "ready", required_argument, NULL, 'r' },
		{ "move-mac", required_argument, NULL, 'm' },
		{ "to-port", required_argument, NULL, 'p' },
		{ "netns", required_argument, NULL, 'N' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *src_uri = NULL, *dst_uri = NULL, *ready = NULL;
	const char *move_mac = NULL, *to_port = NULL, *netns = NULL;
	char err[256];
	virConnectPtr src = NULL, dst = NULL;
	struct watch w = { 0 };
	struct side src_side = { "src", &w }, dst_side = { "dst", &w };
	long timeout_ms = 600000;
	int64_t deadline_ms;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	char *end;
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': src_uri = optarg; break;
		case 'd': dst_uri = optarg; break;
		case 'n': w.domain = optarg; break;
		case 'o': w.on_stop = optarg; break;
		case 'r': ready = optarg; break;
		case 'm': move_mac = optarg; break;
		case 'p': to_port = optarg; break;
		case 'N': netns = optarg; break;
		case 't':
			errno = 0;
			timeout_ms = strtol(optarg, &end, 10);
			if (errno || *end || timeout_ms <= 0) {
				fprintf(stderr, "vfpath-lv-events: bad --timeout '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!src_uri || !w.domain || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	w.want_dst = dst_uri;
	w.move.netns_fd = w.move.own_netns_fd = -1;
	if (!move_mac != !to_port || (netns && !move_mac)) {
		fprintf(stderr, "vfpath-lv-events: --move-mac and --to-port go together (--netns with them)\n");
		return EXIT_USAGE;
	}
	if (move_mac) {
		if (vfpath_fdb_prepare(&w.move, move_mac, to_port, netns, err, sizeof(err))) {
			fprintf(stderr, "vfpath-lv-events: %s\n", err);
			return EXIT_USAGE;
		}
		w.moving = true;
	}

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
		perror("vfpath-lv-events: pipe");
		return EXIT_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	virSetErrorFunc(NULL, silent);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		fprintf(stderr, "vfpath-lv-events: libvirt: %s\n", lv_error());
		return EXIT_LIBVIRT;
	}
	if (virEventAddHandle(sig_pipe[0], VIR_EVENT_HANDLE_READABLE, sig_readable,
			      &w, NULL) < 0 ||
	    virEventAddTimeout(100, tick, NULL, NULL) < 0) {
		fprintf(stderr, "vfpath-lv-events: event loop: %s\n", lv_error());
		return EXIT_LIBVIRT;
	}
	src = subscribe(src_uri, &src_side);
	if (!src)
		return EXIT_LIBVIRT;
	if (dst_uri) {
		dst = subscribe(dst_uri, &dst_side);
		if (!dst) {
			w.rc = EXIT_LIBVIRT;
			goto out;
		}
	}
	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "vfpath-lv-events: %s: %s\n", ready, strerror(errno));
			w.rc = EXIT_USAGE;
			goto out;
		}
		close(fd);
	}

	deadline_ms = epoch_us() / 1000 + timeout_ms;
	while (!finished(&w, deadline_ms)) {
		if (virEventRunDefaultImpl() < 0) {
			fprintf(stderr, "vfpath-lv-events: event loop: %s\n", lv_error());
			w.rc = EXIT_LIBVIRT;
			break;
		}
	}
	if (w.lost && !w.rc)
		w.rc = EXIT_LIBVIRT;
	if (w.rc == EXIT_TIMEOUT)
		fprintf(stderr, "vfpath-lv-events: timed out after %ld ms\n", timeout_ms);
out:
	if (w.hook_pid > 0) {
		/* A switch-over still running at exit is waited for, not orphaned. */
		int status;

		waitpid(w.hook_pid, &status, 0);
		w.hook_pid = 0;
		w.hook_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if (dst)
		virConnectClose(dst);
	virConnectClose(src);
	vfpath_fdb_close(&w.move);
	if (!w.rc && (w.hook_rc || w.move_failed))
		w.rc = EXIT_HOOK;
	return w.rc;
}
