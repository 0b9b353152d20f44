/* proc.h: the examples run as programs, children of a test that drives them
 * from outside as a user would (tests/netex_test.c, seed1_test.c,
 * examples_test.c).
 *
 * A child is <build>/examples/<name>, found beside this test's binary
 * (proc_find_examples). It starts in a process group of its own, so that a
 * kill reaches whatever it starts in turn (the demos start servers), with
 * every signal at its default and none blocked (a test may ignore SIGPIPE;
 * the child must not), this test's environment plus the entries given
 * (which win over inherited ones), and under GOC_TEST_RUNNER when the tests
 * run under an emulator. Its stdin is /dev/null, a pipe already holding a
 * line (a key press waiting), or a pipe this test writes (p->in); its
 * stdout and stderr are pipes read as lines (p->out_lines, p->err_lines),
 * or one pipe for both (merge_output).
 *
 * Waits are bounded without timing anything: a watchdog kills the child's
 * group once it outlives PROC_LIMIT, its output then ends and the test
 * fails. Everything here runs in goroutines (goc_main): reading the pipes
 * and waiting for the child park.
 */
#ifndef GOC_PROC_H
#define GOC_PROC_H

#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>

#include "test.h"

extern char **environ;

#define PROC_LIMIT (120 * GOC_SECOND) /* a bound on any wait, never reached when all is well */
#define PROC_EXEC_LIMIT_MS 20000       /* under an emulator: from spawn to the child's exec */

/* NULL-ended argument lists: ARGS("-v", dir). A NULL argument ends the list
 * early: ARGS(arg) with arg NULL is none. */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A running child. Owned by the test that spawned it; proc_wait frees it. A
 * test that gives up early leaves it to the watchdog. */
struct proc {
    pid_t pid;
    int in, out, err; /* our ends of its stdin (-1: none), stdout, stderr (-1: merged) */
    goc_scanner *out_lines, *err_lines; /* err_lines: NULL when merged */
    goc_timer *watchdog;
    goc_mutex mu; /* watchdog vs reaping: never kill a reaped pid */
    bool reaped;
};

/* How a child starts; every field may be left out. */
struct proc_opts {
    const char *const *env; /* NAME=VALUE entries, NULL-ended */
    const char *input;      /* stdin: a pipe holding this (small) text, then its end */
    bool open_stdin;        /* stdin: a pipe the test writes, p->in */
    bool merge_output;      /* stderr on stdout's pipe: out_lines has both */
};

static char proc_examples_dir[PATH_MAX + 16];

/* Finds <dir of this binary>/../examples, where the examples named in
 * needed (NULL-ended) must have been built. False, with a message, if not. */
static inline bool proc_find_examples(const char *const *needed)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "readlink /proc/self/exe: %s\n", strerror(errno));
        return false;
    }
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(proc_examples_dir, sizeof proc_examples_dir, "%s/../examples", self);
    for (const char *const *name = needed; *name; name++) {
        char probe[sizeof proc_examples_dir + 64];
        snprintf(probe, sizeof probe, "%s/%s", proc_examples_dir, *name);
        if (access(probe, X_OK) != 0) {
            fprintf(stderr, "the examples are not built (%s)\n", probe);
            return false;
        }
    }
    return true;
}

static inline void proc_watchdog(void *arg)
{
    struct proc *p = arg;
    goc_mutex_lock(&p->mu);
    if (!p->reaped) {
        fprintf(stderr, "watchdog: killing process group %d\n", (int)p->pid);
        kill(-p->pid, SIGKILL);
        kill(p->pid, SIGKILL); /* in case it has no group yet (stuck before its exec) */
    }
    goc_mutex_unlock(&p->mu);
}

static inline intptr_t proc_await_exec_call(void *arg)
{
    struct pollfd pfd = {.fd = *(int *)arg, .events = POLLIN};
    int n;
    while ((n = poll(&pfd, 1, PROC_EXEC_LIMIT_MS)) < 0 && errno == EINTR)
        ;
    return n > 0; /* the write end's last copy closed: exec'd, or dead */
}

/* posix_spawn; under an emulator (runner), posix_spawnp of the emulator,
 * and then a wait until the child has exec'd. Now and then (once in CI)
 * qemu-user's emulation of the spawn's clone has left the child stuck
 * before its exec: still running our program, not yet in its own process
 * group. The child inherits the write end of a close-on-exec pipe, which
 * its exec closes; if that has not happened after PROC_EXEC_LIMIT_MS the
 * child is killed and spawned again (twice at most). Natively posix_spawn
 * returns after the exec already. */
static inline int proc_spawn_execed(pid_t *pid, const char *runner, const char *path,
                                    const posix_spawn_file_actions_t *fa,
                                    const posix_spawnattr_t *attr, const char **argv,
                                    const char **envp)
{
    if (!runner)
        return posix_spawn(pid, path, fa, attr, (char **)argv, (char **)envp);
    for (int attempt = 0;; attempt++) {
        int ex[2];
        if (pipe2(ex, O_CLOEXEC) != 0)
            return errno;
        int rc = posix_spawnp(pid, runner, fa, attr, (char **)argv, (char **)envp);
        close(ex[1]);
        bool execed = rc != 0 || goc_blocking(proc_await_exec_call, &ex[0]);
        close(ex[0]);
        if (execed || attempt == 2)
            return rc;
        fprintf(stderr, "spawn %s: no exec after %d ms under %s: killed, spawning again\n", path,
                PROC_EXEC_LIMIT_MS, runner);
        kill(*pid, SIGKILL);
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
}

/* Starts examples/<name> with args (NULL-ended, may be NULL) as o says (o
 * may be NULL). NULL, with a message, if it cannot be started. */
static inline struct proc *proc_spawn(const char *name, const char *const *args,
                                      const struct proc_opts *o)
{
    static const struct proc_opts none_given;
    if (!o)
        o = &none_given;
    char path[sizeof proc_examples_dir + 64];
    snprintf(path, sizeof path, "%s/%s", proc_examples_dir, name);

    /* argv, behind the runner if there is one */
    const char *runner = test_runner();
    const char *argv[16];
    size_t a = 0;
    if (runner)
        argv[a++] = runner;
    argv[a++] = path;
    for (const char *const *arg = args; arg && *arg && a < 15; arg++)
        argv[a++] = *arg;
    argv[a] = NULL;

    const char *envp[256];
    size_t k = 0;
    for (const char *const *e = o->env; e && *e; e++)
        envp[k++] = *e;
    for (char **e = environ; *e && k < 255; e++) {
        bool overridden = false;
        for (const char *const *given = o->env; given && *given; given++)
            overridden |= strncmp(*e, *given, strcspn(*given, "=") + 1) == 0;
        if (!overridden)
            envp[k++] = *e;
    }
    envp[k] = NULL;

    int in[2] = {-1, -1}, out[2], err[2] = {-1, -1};
    if ((o->input || o->open_stdin) && pipe2(in, O_CLOEXEC) != 0)
        return NULL;
    if (o->input) { /* small: it fits in the pipe before the child starts */
        ssize_t len = (ssize_t)strlen(o->input);
        bool written = write(in[1], o->input, (size_t)len) == len;
        close(in[1]);
        in[1] = -1;
        if (!written) {
            close(in[0]);
            return NULL;
        }
    }
    if (pipe2(out, O_CLOEXEC) != 0 || (!o->merge_output && pipe2(err, O_CLOEXEC) != 0))
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in[0] >= 0)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, o->merge_output ? out[1] : err[1], 2);
    posix_spawnattr_t attr;
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int rc = proc_spawn_execed(&pid, runner, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (in[0] >= 0)
        close(in[0]);
    close(out[1]);
    if (err[1] >= 0)
        close(err[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn %s: %s\n", path, strerror(rc));
        if (in[1] >= 0)
            close(in[1]);
        close(out[0]);
        if (err[0] >= 0)
            close(err[0]);
        return NULL;
    }
    struct proc *p = calloc(1, sizeof *p);
    p->pid = pid;
    p->mu = (goc_mutex)GOC_MUTEX_INIT;
    p->in = in[1];
    p->out = out[0];
    p->err = err[0];
    p->out_lines = goc_scanner_new_fd(p->out, 0);
    p->err_lines = p->err >= 0 ? goc_scanner_new_fd(p->err, 0) : NULL;
    p->watchdog = goc_after_func(PROC_LIMIT, proc_watchdog, p);
    return p;
}

/* Closes the child's stdin (^D), if the test holds it. */
static inline void proc_close_stdin(struct proc *p)
{
    if (p->in >= 0)
        close(p->in);
    p->in = -1;
}

/* The rest of a stream's lines, each with its "\n", into buf (as much as
 * fits; the rest is read and dropped). Returns the length kept. */
static inline size_t proc_read_lines(goc_scanner *s, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    while (goc_scanner_scan(s) > 0) {
        int k = snprintf(buf + n, size - n, "%s\n", goc_scanner_text(s, NULL));
        if (k > 0 && (size_t)k < size - n)
            n += (size_t)k;
    }
    return n;
}

static inline intptr_t proc_wait_exit_call(void *arg)
{
    siginfo_t si;
    while (waitid(P_PID, (id_t) * (pid_t *)arg, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    return 0;
}

/* Closes its stdin, waits for the child's end and reaps it; its pipes stay
 * open for what is left in them. Returns its exit status, or 128 + the
 * signal that killed it. */
static inline int proc_reap(struct proc *p)
{
    proc_close_stdin(p);
    goc_blocking(proc_wait_exit_call, &p->pid); /* exited, not yet reaped */
    goc_mutex_lock(&p->mu);
    p->reaped = true;
    /* Anything it left behind (a demo's server, if the demo died before
     * stopping it) would hold our pipes open. Its group's id is its pid,
     * which is not reused before the reaping below. */
    kill(-p->pid, SIGKILL);
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    goc_mutex_unlock(&p->mu);
    goc_timer_stop(p->watchdog);
    goc_timer_free(p->watchdog);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Frees a reaped child and closes our ends of its pipes. */
static inline void proc_free(struct proc *p)
{
    goc_scanner_free(p->out_lines);
    close(p->out);
    if (p->err_lines)
        goc_scanner_free(p->err_lines);
    if (p->err >= 0)
        close(p->err);
    free(p);
}

/* proc_reap, then proc_free: the child's status. */
static inline int proc_wait(struct proc *p)
{
    int rc = proc_reap(p);
    proc_free(p);
    return rc;
}

/* Ends a server: SIGTERM, then proc_wait. True if SIGTERM ended it (it had
 * not died of something else before). */
static inline bool proc_stop(struct proc *p)
{
    kill(p->pid, SIGTERM);
    return proc_wait(p) == 128 + SIGTERM;
}

#endif
