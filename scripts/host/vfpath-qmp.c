// SPDX-License-Identifier: GPL-2.0
/*
 * vfpath-qmp - a small client for QEMU's QMP monitor and the guest agent.
 *
 * The lab and vfpath-migrate drive QEMU through it. QEMU serves one client
 * per monitor socket, so a step list runs on one connection: commands and
 * waits for events in order, with events that arrive early (a DEVICE_DELETED
 * before device_del's own return, say) kept for the next wait.
 *
 * For the guest agent it resynchronises with guest-sync-delimited (whatever
 * an aborted earlier client left in the channel is skipped) and runs shell
 * commands with guest-exec, relaying output and exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfpath-fdb.h"

#define EXIT_QMP_ERROR	1
#define EXIT_USAGE	2
#define EXIT_HOOK	3
#define EXIT_TIMEOUT	124
/* --ga exec: the agent failed, so the command's own status is unknown. */
#define EXIT_AGENT	125

struct conn {
	int fd;
	const char *path;
	char *buf;
	size_t len, cap;
	struct json_object **events;	/* events not yet consumed by a wait */
	struct json_object *last;	/* the event the last wait/log matched */
	size_t nevents;
	int64_t deadline_ms;		/* absolute, CLOCK_MONOTONIC */
	const char *hook_event;		/* "on EVENT run CMD", not yet fired */
	const char *hook_cmd;
	pid_t hook_pid;			/* the fired hook, reaped at the end */
	const char *move_event;		/* "on EVENT move MAC PORT", not yet done */
	struct vfpath_fdb_move move;
	const char *netns;		/* --netns: the bridge's namespace */
	bool move_failed;
	bool exec_status;		/* rc is the guest command's own */
	bool quitting;			/* "quit" sent: QEMU may close at once */
};

static int64_t epoch_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vfpath-qmp [--timeout MS] [--netns NAME] SOCKET STEP...\n"
"       vfpath-qmp --ga [--timeout MS] SOCKET exec 'SHELL COMMAND'\n"
"       vfpath-qmp --ga [--timeout MS] SOCKET COMMAND [ARGS-JSON]\n"
"QMP steps, run in order on one connection:\n"
"  COMMAND ['{ARGS-JSON}']     execute; print the return value as JSON\n"
"  wait EVENT [KEY=VALUE]      wait for EVENT (whose data.KEY is VALUE); print it\n"
"                              (VALUE may list alternatives: completed|failed)\n"
"  log EVENT [KEY=VALUE]       the same, printing every event before it too\n"
"  if KEY=VALUE STEP           run STEP only if the event last waited for\n"
"                              has data.KEY = VALUE\n"
"  sleep MS                    pause (between two commands of one session)\n"
"  on EVENT run 'CMD'          run CMD (sh -c) the moment EVENT arrives, once,\n"
"                              without waiting for it; its failure is reported\n"
"                              and makes the exit status 3 if all else went well\n"
"  on EVENT move MAC PORT      the moment EVENT arrives, once: move MAC to\n"
"                              bridge port PORT (bridge fdb replace ... master\n"
"                              dynamic, by netlink, in --netns NAME if given);\n"
"                              prints FDB_MOVED {mac, port[, error]} at this\n"
"                              host's clock; a failure makes the exit status 3\n"
"quit succeeds when QEMU closes the monitor before its reply, as it may.\n"
"--timeout bounds the whole run (default 30000 ms).\n"
"Exit: 0 ok, 1 QEMU returned an error, 2 usage or connection error,\n"
"3 an \"on\" command failed, 124 timed out; with --ga exec, the command's\n"
"own exit status, or 124 if it timed out and 125 if the agent failed (not\n"
"reached, no answer, an error): never a status the command did not give.\n");
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vfpath-qmp: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	c->path = path;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "vfpath-qmp: cannot connect to %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int conn_send(struct conn *c, struct json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), off = 0;
	char *line;
	ssize_t n;

	/*
	 * The command and its newline in one write: QEMU parses a command
	 * when its closing brace arrives, and after "quit" it may close the
	 * socket before a newline sent on its own, which then fails.
	 */
	line = malloc(len + 2);
	if (!line) {
		perror("vfpath-qmp");
		return -1;
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	while (off < len) {
		n = write(c->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vfpath-qmp: write to %s: %s\n", c->path,
				n < 0 ? strerror(errno) : "nothing written");
			free(line);
			return -1;
		}
		off += (size_t)n;
	}
	free(line);
	return 0;
}

/*
 * Reads the next JSON object (one per line). Bytes 0xff, the guest agent's
 * sync delimiter, are dropped. Returns NULL with *timed_out on timeout.
 */
static struct json_object *conn_read(struct conn *c, bool *timed_out)
{
	struct json_object *obj;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char *nl;
	int64_t left;
	ssize_t n, i;
	size_t w;

	*timed_out = false;
	for (;;) {
		nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*nl = '\0';
			obj = json_tokener_parse(c->buf);
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			if (obj)
				return obj;
			continue;	/* partial garbage left by an earlier client */
		}
		left = c->deadline_ms - now_ms();
		if (left <= 0) {
			*timed_out = true;
			return NULL;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf) {
				perror("vfpath-qmp");
				exit(EXIT_USAGE);
			}
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!c->quitting)
				fprintf(stderr, "vfpath-qmp: %s closed the connection\n",
					c->path);
			return NULL;
		}
		/* Drop sync delimiters in place. */
		w = c->len;
		for (i = 0; i < n; i++)
			if ((unsigned char)c->buf[c->len + i] != 0xff)
				c->buf[w++] = c->buf[c->len + i];
		c->len = w;
	}
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/*
 * Called for every event the moment it is read: fires the "on" hook. The
 * hook runs in the background so that the steps (and their timestamps) do
 * not wait for it; a migration's STOP is what it is for.
 */
/* The "on EVENT move" switch-over, in this process: no fork between them. */
static void move_now(struct conn *c)
{
	struct json_object *o = json_object_new_object(), *ts, *d;
	char err[256] = "";
	int64_t t;

	if (vfpath_fdb_do(&c->move, err, sizeof(err)))
		c->move_failed = true;
	t = epoch_us();
	ts = json_object_new_object();
	json_object_object_add(ts, "seconds", json_object_new_int64(t / 1000000));
	json_object_object_add(ts, "microseconds", json_object_new_int64(t % 1000000));
	d = json_object_new_object();
	json_object_object_add(d, "mac", json_object_new_string(c->move.mac_text));
	json_object_object_add(d, "port", json_object_new_string(c->move.port));
	if (c->move_failed) {
		json_object_object_add(d, "error", json_object_new_string(err));
		fprintf(stderr, "vfpath-qmp: on-event move: %s\n", err);
	}
	json_object_object_add(o, "event", json_object_new_string("FDB_MOVED"));
	json_object_object_add(o, "timestamp", ts);
	json_object_object_add(o, "data", d);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void event_arrived(struct conn *c, struct json_object *ev)
{
	pid_t pid;

	if (c->move_event && !strcmp(jstr(ev, "event") ?: "", c->move_event)) {
		c->move_event = NULL;
		move_now(c);
	}
	if (!c->hook_event || strcmp(jstr(ev, "event") ?: "", c->hook_event))
		return;
	c->hook_event = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("vfpath-qmp: fork");
		return;
	}
	if (pid == 0) {
		close(c->fd);
		execl("/bin/sh", "sh", "-c", c->hook_cmd, (char *)NULL);
		_exit(127);
	}
	c->hook_pid = pid;
}

/* Waits for the fired hook, if any; returns EXIT_HOOK if it failed. */
static int hook_reap(struct conn *c)
{
	int status;

	if (c->hook_pid <= 0)
		return 0;
	if (waitpid(c->hook_pid, &status, 0) < 0) {
		perror("vfpath-qmp: waitpid");
		return EXIT_HOOK;
	}
	c->hook_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "vfpath-qmp: on-event command '%s' failed (status %d)\n",
		c->hook_cmd, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return EXIT_HOOK;
}

static void keep_event(struct conn *c, struct json_object *ev)
{
	c->events = realloc(c->events, (c->nevents + 1) * sizeof(*c->events));
	if (!c->events) {
		perror("vfpath-qmp");
		exit(EXIT_USAGE);
	}
	c->events[c->nevents++] = ev;
}

/*
 * Executes @cmd with @args (may be NULL) and returns the "return" member,
 * or NULL after printing QEMU's error. Events seen meanwhile are kept.
 * @rc is set to the exit code to use on failure.
 */
static struct json_object *execute(struct conn *c, const char *cmd,
				   struct json_object *args, int *rc)
{
	struct json_object *msg = json_object_new_object(), *resp, *ret, *err;
	bool timed_out;

	json_object_object_add(msg, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "arguments", json_object_get(args));
	if (conn_send(c, msg)) {
		json_object_put(msg);
		*rc = EXIT_USAGE;
		return NULL;
	}
	json_object_put(msg);
	c->quitting = !strcmp(cmd, "quit");
	for (;;) {
		resp = conn_read(c, &timed_out);
		/*
		 * QEMU closing the monitor before its reply to quit is the quit
		 * (libvirt reads it so too). Not seen here since the newline
		 * goes with the command (vfpath_qmp: 0 in 100).
		 */
		if (!resp && c->quitting && !timed_out)
			return json_object_new_object();
		if (!resp) {
			if (timed_out)
				fprintf(stderr, "vfpath-qmp: %s: timed out\n", cmd);
			*rc = timed_out ? EXIT_TIMEOUT : EXIT_USAGE;
			return NULL;
		}
		if (json_object_object_get_ex(resp, "event", NULL)) {
			event_arrived(c, resp);
			keep_event(c, resp);
			continue;
		}
		if (json_object_object_get_ex(resp, "return", &ret)) {
			json_object_get(ret);
			json_object_put(resp);
			return ret;
		}
		if (json_object_object_get_ex(resp, "error", &err)) {
			fprintf(stderr, "vfpath-qmp: %s: %s: %s\n", cmd,
				jstr(err, "class") ?: "?", jstr(err, "desc") ?: "?");
			json_object_put(resp);
			*rc = EXIT_QMP_ERROR;
			return NULL;
		}
		json_object_put(resp);	/* greeting or stray: ignore */
	}
}

/* Is @val one of the '|'-separated @alts ("completed|failed")? */
static bool value_in(const char *val, const char *alts)
{
	size_t n = strlen(val);
	const char *p = alts, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == n && !strncmp(p, val, n))
			return true;
		if (!bar)
			return false;
		p = bar + 1;
	}
}

static bool event_matches(struct json_object *ev, const char *name,
			  const char *match)
{
	struct json_object *data;
	const char *eq, *val;
	size_t klen;
	char key[128];

	if (strcmp(jstr(ev, "event") ?: "", name))
		return false;
	if (!match)
		return true;
	eq = strchr(match, '=');
	klen = (size_t)(eq - match);
	if (!json_object_object_get_ex(ev, "data", &data) || klen >= sizeof(key))
		return false;
	memcpy(key, match, klen);
	key[klen] = '\0';
	val = jstr(data, key);
	return val && value_in(val, eq + 1);
}

/*
 * Waits for event @name (with data matching @match) and prints it; with
 * @all, prints every event on the way too, in order (a timeline).
 */
static int wait_event(struct conn *c, const char *name, const char *match,
		      bool all)
{
	struct json_object *ev;
	bool timed_out;
	size_t i;

	i = 0;
	while (i < c->nevents) {
		bool hit = event_matches(c->events[i], name, match);

		if (!hit && !all) {
			i++;
			continue;
		}
		puts(json_object_to_json_string_ext(c->events[i],
						    JSON_C_TO_STRING_PLAIN));
		if (hit) {
			json_object_put(c->last);
			c->last = c->events[i];
		} else {
			json_object_put(c->events[i]);
		}
		memmove(&c->events[i], &c->events[i + 1],
			(c->nevents - i - 1) * sizeof(*c->events));
		c->nevents--;
		if (hit)
			return 0;
	}
	for (;;) {
		ev = conn_read(c, &timed_out);
		if (!ev) {
			if (timed_out)
				fprintf(stderr, "vfpath-qmp: timed out waiting for %s%s%s\n",
					name, match ? " " : "", match ?: "");
			return timed_out ? EXIT_TIMEOUT : EXIT_USAGE;
		}
		event_arrived(c, ev);
		if (event_matches(ev, name, match)) {
			puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
			json_object_put(c->last);
			c->last = ev;
			return 0;
		}
		if (!json_object_object_get_ex(ev, "event", NULL)) {
			json_object_put(ev);
		} else if (all) {
			puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
			json_object_put(ev);
		} else {
			keep_event(c, ev);
		}
	}
}

static struct json_object *parse_args(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	if (!o || !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "vfpath-qmp: arguments are not a JSON object: %s\n", s);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int run_qmp(struct conn *c, int argc, char **argv)
{
	struct json_object *ret, *args;
	const char *match;
	int i, rc = 0;

	ret = execute(c, "qmp_capabilities", NULL, &rc);
	if (!ret)
		return rc;
	json_object_put(ret);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "wait") || !strcmp(argv[i], "log")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "vfpath-qmp: %s needs an event name\n", argv[i]);
				return EXIT_USAGE;
			}
			match = NULL;
			if (i + 2 < argc && strchr(argv[i + 2], '=') &&
			    argv[i + 2][0] != '{')
				match = argv[i + 2];
			rc = wait_event(c, argv[i + 1], match, argv[i][0] == 'l');
			if (rc)
				return rc;
			i += match ? 2 : 1;
			continue;
		}
		if (!strcmp(argv[i], "if") && i + 2 < argc && strchr(argv[i + 1], '=')) {
			/* Skip the next step unless the last event matches. */
			if (c->last && event_matches(c->last, jstr(c->last, "event"),
						     argv[i + 1])) {
				i++;
				continue;
			}
			i += 2;
			if (i + 1 < argc && argv[i + 1][0] == '{')
				i++;
			continue;
		}
		if (!strcmp(argv[i], "on") && i + 4 < argc && !strcmp(argv[i + 2], "move")) {
			char err[256];

			if (vfpath_fdb_prepare(&c->move, argv[i + 3], argv[i + 4], c->netns,
					       err, sizeof(err))) {
				fprintf(stderr, "vfpath-qmp: on %s move: %s\n", argv[i + 1], err);
				return EXIT_USAGE;
			}
			c->move_event = argv[i + 1];
			for (size_t k = 0; k < c->nevents && c->move_event; k++)
				event_arrived(c, c->events[k]);
			i += 4;
			continue;
		}
		if (!strcmp(argv[i], "on")) {
			if (i + 3 >= argc || strcmp(argv[i + 2], "run")) {
				fprintf(stderr, "vfpath-qmp: usage: on EVENT run 'CMD' | on EVENT move MAC PORT\n");
				return EXIT_USAGE;
			}
			c->hook_event = argv[i + 1];
			c->hook_cmd = argv[i + 3];
			/* An event that came early still counts. */
			for (size_t k = 0; k < c->nevents; k++)
				event_arrived(c, c->events[k]);
			i += 3;
			continue;
		}
		if (!strcmp(argv[i], "sleep") && i + 1 < argc) {
			usleep((useconds_t)atoi(argv[++i]) * 1000);
			continue;
		}
		args = NULL;
		if (i + 1 < argc && argv[i + 1][0] == '{') {
			args = parse_args(argv[i + 1]);
			if (!args)
				return EXIT_USAGE;
		}
		ret = execute(c, argv[i], args, &rc);
		json_object_put(args);
		if (args)
			i++;
		if (!ret)
			return rc;
		puts(json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
		json_object_put(ret);
	}
	return 0;
}

/* Decodes base64 @in to @out; returns the length written. */
static size_t b64_decode(const char *in, unsigned char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int acc = 0, bits = 0;
	size_t n = 0;
	const char *p;

	for (; *in && *in != '='; in++) {
		p = strchr(tbl, *in);
		if (!p)
			continue;
		acc = (acc << 6) | (unsigned int)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static void relay_b64(struct json_object *st, const char *key, FILE *f)
{
	const char *s = jstr(st, key);
	unsigned char *buf;
	size_t n;

	if (!s)
		return;
	buf = malloc(strlen(s) * 3 / 4 + 4);
	if (!buf)
		return;
	n = b64_decode(s, buf);
	fwrite(buf, 1, n, f);
	fflush(f);
	free(buf);
}

/*
 * Sends guest-sync-delimited and skips everything up to the reply with our
 * id: an aborted earlier client may have left replies in the channel.
 */
static int ga_sync(struct conn *c)
{
	struct json_object *msg = json_object_new_object(), *args, *resp, *ret;
	int64_t id = (now_ms() ^ getpid()) & 0x7fffffff;
	bool timed_out;
	int rc;

	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(id));
	json_object_object_add(msg, "execute",
			       json_object_new_string("guest-sync-delimited"));
	json_object_object_add(msg, "arguments", args);
	rc = conn_send(c, msg) ? EXIT_USAGE : 0;
	json_object_put(msg);
	while (!rc) {
		resp = conn_read(c, &timed_out);
		if (!resp) {
			if (timed_out)
				fprintf(stderr, "vfpath-qmp: guest agent did not answer\n");
			return timed_out ? EXIT_TIMEOUT : EXIT_USAGE;
		}
		if (json_object_object_get_ex(resp, "return", &ret) &&
		    json_object_get_int64(ret) == id) {
			json_object_put(resp);
			return 0;
		}
		json_object_put(resp);
	}
	return rc;
}

static int ga_exec(struct conn *c, const char *cmd)
{
	struct json_object *args = json_object_new_object(), *argv, *ret, *st;
	struct json_object *v;
	int64_t pid, delay_us = 2000;
	int rc = 0, status;

	argv = json_object_new_array();
	json_object_array_add(argv, json_object_new_string("-c"));
	json_object_array_add(argv, json_object_new_string(cmd));
	json_object_object_add(args, "path", json_object_new_string("/bin/sh"));
	json_object_object_add(args, "arg", argv);
	json_object_object_add(args, "capture-output", json_object_new_boolean(1));
	ret = execute(c, "guest-exec", args, &rc);
	json_object_put(args);
	if (!ret)
		return rc;
	if (!json_object_object_get_ex(ret, "pid", &v)) {
		fprintf(stderr, "vfpath-qmp: guest-exec returned no pid\n");
		json_object_put(ret);
		return EXIT_QMP_ERROR;
	}
	pid = json_object_get_int64(v);
	json_object_put(ret);

	args = json_object_new_object();
	json_object_object_add(args, "pid", json_object_new_int64(pid));
	for (;;) {
		st = execute(c, "guest-exec-status", args, &rc);
		if (!st)
			break;
		if (json_object_object_get_ex(st, "exited", &v) &&
		    json_object_get_boolean(v)) {
			relay_b64(st, "out-data", stdout);
			relay_b64(st, "err-data", stderr);
			status = 0;
			if (json_object_object_get_ex(st, "exitcode", &v))
				status = json_object_get_int(v);
			else if (json_object_object_get_ex(st, "signal", &v))
				status = 128 + json_object_get_int(v);
			json_object_put(st);
			rc = status;
			c->exec_status = true;
			break;
		}
		json_object_put(st);
		if (now_ms() >= c->deadline_ms) {
			fprintf(stderr, "vfpath-qmp: guest command timed out: %s\n", cmd);
			rc = EXIT_TIMEOUT;
			break;
		}
		usleep((useconds_t)delay_us);
		if (delay_us < 50000)
			delay_us *= 2;
	}
	json_object_put(args);
	return rc;
}

static int run_ga(struct conn *c, int argc, char **argv)
{
	struct json_object *args = NULL, *ret;
	int rc;

	rc = ga_sync(c);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "exec")) {
		if (argc != 2) {
			fprintf(stderr, "vfpath-qmp: exec takes one shell command\n");
			return EXIT_USAGE;
		}
		return ga_exec(c, argv[1]);
	}
	if (argc > 2) {
		fprintf(stderr, "vfpath-qmp: --ga takes one command\n");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		args = parse_args(argv[1]);
		if (!args)
			return EXIT_USAGE;
	}
	ret = execute(c, argv[0], args, &rc);
	json_object_put(args);
	if (!ret)
		return rc;
	puts(json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN));
	json_object_put(ret);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ga",		no_argument,	   NULL, 'g' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "netns",	required_argument, NULL, 'n' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conn c = { .fd = -1, .move = { .netns_fd = -1, .own_netns_fd = -1 } };
	long timeout = 30000;
	bool ga = false, exec;
	char *end;
	int opt, rc, hook_rc;

	while ((opt = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'g':
			ga = true;
			break;
		case 'n':
			c.netns = optarg;
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout <= 0) {
				fprintf(stderr, "vfpath-qmp: bad --timeout '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A monitor that went away is an error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	c.deadline_ms = now_ms() + timeout;
	exec = ga && !strcmp(argv[optind + 1], "exec");
	if (conn_open(&c, argv[optind]))
		return exec ? EXIT_AGENT : EXIT_USAGE;
	optind++;
	if (ga)
		rc = run_ga(&c, argc - optind, argv + optind);
	else
		rc = run_qmp(&c, argc - optind, argv + optind);
	/* Any status but the command's own or a timeout: the agent failed. */
	if (exec && !c.exec_status && rc && rc != EXIT_TIMEOUT)
		rc = EXIT_AGENT;
	close(c.fd);
	hook_rc = hook_reap(&c);
	vfpath_fdb_close(&c.move);
	if (!hook_rc && c.move_failed)
		hook_rc = EXIT_HOOK;
	return rc ?: hook_rc;
}
