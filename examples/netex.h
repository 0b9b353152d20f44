/* netex.h: what the network examples of seed 002 share (clock1, clock2,
 * netcat1-3, reverb1, reverb2, chat): Go's log.Print and log.Fatal, io.Copy
 * between connections and descriptors (os.Stdin, os.Stdout) and the netcats'
 * mustCopy, the clock's "15:04:05" format, strings.ToUpper and ToLower,
 * durations from the environment, the accept loop's error handling, main
 * (serve or dial an address, or play the demo), and the parts the demos are
 * built from (nc, a scripted user at a terminal or on a connection, a
 * server example started beside the demo).
 *
 * Each example is one program, examples/<name>.c, and includes this header
 * of static functions. Public API only (<goc.h>).
 *
 * Descriptors (stdin, stdout, stderr, pipes) are read and written through
 * goc_blocking, so a terminal or a full pipe never stalls a worker: the
 * goroutine parks and a helper thread makes the call, as Go does around a
 * system call. Connections go through goc_conn_* and the poller.
 */
#ifndef NETEX_H
#define NETEX_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <goc.h>

#if defined(__SANITIZE_ADDRESS__) || defined(GOC_SANITIZE_ADDRESS)
#include <sanitizer/lsan_interface.h>
#endif

extern char **environ;

/* ---- Descriptors through goc_blocking ---- */

struct fd_call {
    int fd;
    void *buf;
    size_t n;
};

/* Run on a helper thread: errno is read there, right after the call. */
static intptr_t fd_read_call(void *arg)
{
    struct fd_call *c = arg;
    ssize_t r;
    do
        r = read(c->fd, c->buf, c->n);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static intptr_t fd_write_call(void *arg)
{
    struct fd_call *c = arg;
    size_t done = 0;
    while (done < c->n) {
        ssize_t r = write(c->fd, (const char *)c->buf + done, c->n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        done += (size_t)r;
    }
    return (intptr_t)done;
}

/* An io.Reader or io.Writer: a connection, or a descriptor when conn is
 * NULL. */
typedef struct rw {
    goc_conn *conn;
    int fd;
} rw;

static inline rw rw_conn(goc_conn *c) { return (rw){.conn = c, .fd = -1}; }
static inline rw rw_fd(int fd) { return (rw){.conn = NULL, .fd = fd}; }

/* Read: bytes read, 0 at end of input, or a negative errno. Parks. */
static inline ssize_t rw_read(rw r, void *buf, size_t n)
{
    if (r.conn)
        return goc_conn_read(r.conn, buf, n);
    return goc_blocking(fd_read_call, &(struct fd_call){r.fd, buf, n});
}

/* Write, all of it: n or a negative errno. Parks. */
static inline ssize_t rw_write(rw w, const void *buf, size_t n)
{
    if (w.conn)
        return goc_conn_write(w.conn, buf, n);
    return goc_blocking(fd_write_call, &(struct fd_call){w.fd, (void *)buf, n});
}

/* io.Copy(dst, src): copies until src ends. Returns 0 at the end of src
 * (io.Copy's nil error), or the first read or write error (negative). */
static inline int io_copy(rw dst, rw src)
{
    char buf[16 * 1024]; /* on the goroutine's stack (128 KiB) */
    ssize_t n;
    while ((n = rw_read(src, buf, sizeof buf)) > 0) {
        ssize_t w = rw_write(dst, buf, (size_t)n);
        if (w < 0)
            return (int)w;
    }
    return (int)n;
}

/* Says that p, still held by a goroutine when the program ends (as Go
 * programs end, without waiting for their goroutines), is no leak: the
 * leak checker of the ASan build cannot see goroutine stacks. */
static inline void keep_until_exit(const void *p)
{
#if defined(__SANITIZE_ADDRESS__) || defined(GOC_SANITIZE_ADDRESS)
    __lsan_ignore_object(p);
#else
    (void)p;
#endif
}

/* ---- Go's log package: "2009/11/10 23:00:00 message" on stderr ---- */

static int log_output = STDERR_FILENO; /* log.SetOutput */

static inline GOC_PRINTF(1, 0) void log_vprint(const char *fmt, va_list ap)
{
    char line[1024];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    size_t n = strftime(line, sizeof line, "%Y/%m/%d %H:%M:%S ", &tm);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    if (m > 0)
        n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    if (line[n - 1] != '\n') /* log.Print adds a newline if missing */
        line[n++] = '\n';
    rw_write(rw_fd(log_output), line, n); /* one write: lines stay whole */
}

/* log.Print */
static inline GOC_PRINTF(1, 2) void log_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprint(fmt, ap);
    va_end(ap);
}

/* log.Fatal: log.Print, then exit status 1. */
static inline GOC_PRINTF(1, 2) GOC_NORETURN void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprint(fmt, ap);
    va_end(ap);
    fflush(stdout);
    _exit(1); /* like os.Exit: no deferred calls, no atexit handlers */
}

/* ---- Small things the seeds take from the standard library ---- */

/* os.Stdin and os.Stdout: a client's demo makes them pipes, a terminal's
 * keyboard and screen (demo_terminal). */
static int os_stdin = STDIN_FILENO;
static int os_stdout = STDOUT_FILENO;

/* The netcats' mustCopy (netcat1 defines it, netcat2 and netcat3 use it):
 * io.Copy, or log.Fatal on an error. */
static inline void mustCopy(rw dst, rw src)
{
    int err = io_copy(dst, src);
    if (err < 0)
        log_fatal("%s", strerror(-err));
}

/* strings.ToUpper or strings.ToLower (f: toupper or tolower), ASCII letters
 * only (Go's change every Unicode letter): a new string, the caller's. */
static inline char *map_ascii(const char *s, int (*f)(int))
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        if ((unsigned char)*p < 0x80)
            *p = (char)f((unsigned char)*p);
    return r;
}

/* time.Now().Format("15:04:05\n"): the local time of day. */
static inline void format_clock(char buf[16])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 16, "%H:%M:%S\n", &tm);
}

/* A duration the demo and the tests shorten: the environment variable name
 * in milliseconds, else def_ms. Returns nanoseconds. */
static inline int64_t env_millis(const char *name, int64_t def_ms)
{
    const char *s = getenv(name);
    char *end;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || *s == 0 || *end != 0 || v < 0)
        v = def_ms;
    return (int64_t)v * GOC_MILLISECOND;
}

/* No argument, or --demo: the program's demo. Otherwise argv[1] is the
 * address to listen on or dial (the seed's is localhost:8000). */
static inline bool demo_mode(int argc, char **argv)
{
    return argc < 2 || strcmp(argv[1], "--demo") == 0;
}

/* net.Listen("tcp", address) or log.Fatal. Says where it listens (the
 * seed's servers say nothing; here the port may be 0, chosen by the
 * system, and the tests and demos learn it from this line). */
static inline goc_listener *must_listen(const char *address)
{
    goc_listener *l;
    int err = goc_listen("tcp", address, &l);
    if (err < 0)
        log_fatal("listen tcp %s: %s", address, strerror(-err));
    char where[GOC_ADDRSTRLEN];
    goc_listener_addr(l, where, sizeof where);
    log_print("listening on %s", where);
    return l;
}

/* listener.Accept() as the seeds' accept loops use it: an error is
 * logged (log.Print(err) // e.g., connection aborted) and the loop goes on
 * to the next connection. */
static inline goc_conn *accept_next(goc_listener *listener)
{
    for (;;) {
        goc_conn *conn;
        int err = goc_accept(listener, &conn);
        if (err == 0)
            return conn;
        log_print("accept: %s", strerror(-err));
    }
}

/* clock2's main, which reverb1 and reverb2 take as it is (the seed shows it
 * once): listen, then `go handleConn(conn)` for each connection. */
static inline void serve_each(const char *address, goc_fn handleConn)
{
    goc_listener *listener = must_listen(address);
    for (;;) {
        goc_conn *conn = accept_next(listener);
        goc_go(handleConn, conn);
    }
}

/* net.Dial("tcp", address) or log.Fatal. */
static inline goc_conn *must_dial(const char *address)
{
    goc_conn *c;
    int err = goc_dial("tcp", address, &c);
    if (err < 0)
        log_fatal("dial tcp %s: %s", address, strerror(-err));
    return c;
}

/* ---- main ---- */

static void (*netex_run)(const char *address);
static int (*netex_demo)(void);

static inline int netex_real_main(int argc, char **argv)
{
    if (demo_mode(argc, argv))
        return netex_demo();
    netex_run(argv[1]);
    return 0;
}

/* An example's main: run(argv[1]), the seed's main with the address to
 * listen on or dial, or demo() (demo_mode); exit status 0 when it returns.
 * In goroutines (goc_main); stdout line by line, so that a demo's lines
 * come out in the order they are printed. */
static inline int netex_main(int argc, char **argv, void (*run)(const char *address),
                             int (*demo)(void))
{
    netex_run = run;
    netex_demo = demo;
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(netex_real_main, argc, argv);
}

/* ---- Demo parts ---- */

/* nc ADDRESS, quitting after some lines: prints each line as "name: line". */
struct demo_nc {
    const char *address, *name;
    int lines;
};

static inline void demo_nc(void *arg)
{
    struct demo_nc *nc = arg;
    goc_conn *c = must_dial(nc->address);
    goc_scanner *in = goc_scanner_new(c, 0);
    for (int i = 0; i < nc->lines && goc_scanner_scan(in) > 0; i++)
        printf("%s: %s\n", nc->name, goc_scanner_text(in, NULL));
    printf("%s: ^C\n", nc->name);
    goc_scanner_free(in);
    goc_conn_close(c);
}

/* The clocks' demo: two nc clients at once, each quitting after three
 * lines. */
static inline void demo_two_nc(const char *address)
{
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct demo_nc nc1 = {address, "nc 1", 3}, nc2 = {address, "nc 2", 3};
    goc_waitgroup_go(&wg, demo_nc, &nc1);
    goc_waitgroup_go(&wg, demo_nc, &nc2);
    goc_waitgroup_wait(&wg);
}

/* A user at a terminal, following a script: types a line (shown as the
 * terminal shows it) into keyboard, then waits for that many lines on the
 * screen, printing each; after the script, hang_up (^D, or stopping a
 * server), then prints what is left on the screen until it ends. The
 * screen's lines come from the program under demonstration, so the script
 * waits for what it has seen, never for a time. With gone_at_hang_up, the
 * user stops at the hang-up: the program under demonstration ends there. */
struct demo_line {
    const char *typed; /* NULL: types nothing */
    int wait;          /* lines to see before going on */
};

struct demo_user {
    rw keyboard;
    goc_scanner *screen;
    const struct demo_line *script;
    int n;
    void (*hang_up)(struct demo_user *u);
    void *hang_up_arg;
    bool gone_at_hang_up; /* the program ends there: look no further */
};

static inline bool demo_user_see(struct demo_user *u)
{
    if (goc_scanner_scan(u->screen) <= 0)
        return false;
    printf("%s\n", goc_scanner_text(u->screen, NULL));
    return true;
}

static inline void demo_user(void *arg)
{
    struct demo_user *u = arg;
    for (int i = 0; i < u->n; i++) {
        const struct demo_line *l = &u->script[i];
        if (l->typed) {
            char line[256];
            int n = snprintf(line, sizeof line, "%s\n", l->typed);
            printf("%s", line);
            rw_write(u->keyboard, line, (size_t)n);
        }
        for (int k = 0; k < l->wait; k++)
            if (!demo_user_see(u))
                break;
    }
    u->hang_up(u);
    while (!u->gone_at_hang_up && demo_user_see(u))
        ;
}

/* Hang-ups: ^D on a connection (its write half) or on a pipe. */
static inline void hang_up_conn(struct demo_user *u)
{
    printf("^D\n");
    goc_conn_close_write(u->keyboard.conn);
}

static inline void hang_up_fd(struct demo_user *u)
{
    printf("^D\n");
    close(u->keyboard.fd);
    u->keyboard.fd = -1;
}

/* The servers' demo: a user at netcat3 against address, typing the script
 * (n lines) into a connection of its own, then ^D (the writing half), and
 * watching until the server closes. */
static inline void demo_user_dial(const char *address, const struct demo_line *script, int n)
{
    goc_conn *c = must_dial(address);
    struct demo_user user = {
        .keyboard = rw_conn(c),
        .screen = goc_scanner_new(c, 0),
        .script = script,
        .n = n,
        .hang_up = hang_up_conn,
    };
    demo_user(&user);
    goc_scanner_free(user.screen);
    goc_conn_close(c);
}

/* The clients' demo: a terminal, os_stdin and os_stdout made pipes with a
 * user at their other ends (a demo_user whose keyboard and screen are
 * filled in here) in a goroutine of its own, from demo_terminal_open until
 * demo_terminal_close. */
struct demo_terminal {
    int keyboard[2], screen[2];
    struct demo_user user;
    goc_waitgroup watching;
};

static inline void demo_terminal_open(struct demo_terminal *t, struct demo_user user)
{
    if (pipe2(t->keyboard, O_CLOEXEC) < 0 || pipe2(t->screen, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    os_stdin = t->keyboard[0];
    os_stdout = t->screen[1];
    t->user = user;
    t->user.keyboard = rw_fd(t->keyboard[1]);
    t->user.screen = goc_scanner_new_fd(t->screen[0], 0);
    t->watching = (goc_waitgroup)GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&t->watching, demo_user, &t->user);
}

/* Once the client has returned: with output_ended, its stdout's writing
 * end is closed, as the process's exit would close it (else something of
 * the client may still write there, and it is left to the exit); then
 * waits until the user has seen the rest. */
static inline void demo_terminal_close(struct demo_terminal *t, bool output_ended)
{
    if (output_ended)
        close(t->screen[1]);
    goc_waitgroup_wait(&t->watching);
    goc_scanner_free(t->user.screen);
    close(t->screen[0]);
    close(t->keyboard[0]);
    if (t->user.keyboard.fd >= 0) /* the user never hung up the keyboard */
        close(t->user.keyboard.fd);
}

/* An example binary run as the server of a demo, as the seed runs
 * `./reverb1 &` before `./netcat2`: the server examples start themselves,
 * the clients start a sibling. Started with a listen address of
 * 127.0.0.1:0 and, unless env_name is NULL, env_name=<milliseconds>
 * (env_millis(env_name, def_ms): the demo's own environment may set it);
 * its "listening on" line gives the address. (A server in the demo's own
 * process would still be serving, its goroutines parked, when the demo
 * ends; in the ASan build what they hold would read as leaks. A separate
 * process is stopped with SIGTERM instead, and its stdin and stdout are
 * /dev/null, so that it holds none of the demo's pipes.) */
struct demo_server {
    pid_t pid;
    int log_fd; /* its stderr; kept open so that it never gets SIGPIPE */
    char address[GOC_ADDRSTRLEN];
};

static intptr_t wait_pid_call(void *arg)
{
    int status;
    while (waitpid(*(pid_t *)arg, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

static inline void demo_server_start(struct demo_server *s, const char *name,
                                     const char *env_name, int64_t def_ms)
{
    char entry[64], *env = NULL;
    if (env_name) {
        snprintf(entry, sizeof entry, "%s=%lld", env_name,
                 (long long)(env_millis(env_name, def_ms) / GOC_MILLISECOND));
        env = entry;
    }

    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n < 0)
        log_fatal("readlink /proc/self/exe: %s", strerror(errno));
    path[n] = 0;
    char *slash = strrchr(path, '/');
    snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "%s", name);

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 2, sizeof *envp);
    size_t k = 0, namelen = env ? strcspn(env, "=") : 0;
    if (env)
        envp[k++] = (char *)env; /* first, so it wins over an inherited one */
    for (size_t i = 0; i < nenv; i++)
        if (!env || strncmp(environ[i], env, namelen + 1) != 0)
            envp[k++] = environ[i];
    envp[k] = NULL;

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
    posix_spawnattr_t attr; /* signals as a shell would leave them */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    /* GOC_TEST_RUNNER: the emulator goc's cross-built tests run under
     * (qemu-user), which a foreign binary needs to start its server too. */
    const char *runner = getenv("GOC_TEST_RUNNER");
    char *argv[] = {path, "127.0.0.1:0", NULL};
    char *rargv[] = {(char *)runner, path, "127.0.0.1:0", NULL};
    int err = runner && *runner ? posix_spawnp(&s->pid, runner, &fa, &attr, rargv, envp)
                                : posix_spawn(&s->pid, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    close(p[1]);
    if (err)
        log_fatal("start %s: %s", path, strerror(err));
    s->log_fd = p[0];

    goc_scanner *lines = goc_scanner_new_fd(s->log_fd, 0);
    const char *at = NULL;
    while (!at && goc_scanner_scan(lines) > 0)
        if ((at = strstr(goc_scanner_text(lines, NULL), "listening on ")))
            snprintf(s->address, sizeof s->address, "%s", at + strlen("listening on "));
    goc_scanner_free(lines);
    if (!at)
        log_fatal("%s did not start", path);
    printf("$ %s%s%s 127.0.0.1:0 &    (listening on %s)\n", env ? env : "", env ? " " : "", name,
           s->address);
}

static inline void demo_server_stop(struct demo_server *s)
{
    kill(s->pid, SIGTERM);
    goc_blocking(wait_pid_call, &s->pid);
    close(s->log_fd);
}

#endif
