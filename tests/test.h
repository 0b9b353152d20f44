/* test.h: the tests' little harness.
 *
 * A test file is one program: TEST(name) functions registered in main with
 * RUN(name), CHECK(cond) that records a failure with its line and goes on
 * (REQUIRE(cond): and ends the test), and a final "N passed, N failed"
 * line; the exit status is non-zero when anything failed. Tests that must
 * watch a process die (a deadlock, a panic, a stack overflow) run a
 * scenario of their own binary in a child and check its exit status and
 * stderr (run_child; the child's main picks it with run_scenario). Loop
 * sizes shrink under the sanitizers through SCALE(n), never the
 * assertions. Example programs run as children through proc.h.
 */
#ifndef GOC_TEST_H
#define GOC_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <goc.h>

#if defined(GOC_SANITIZE_THREAD)
#define SCALE(n) ((n) / 50 > 0 ? (n) / 50 : 1)
#elif defined(GOC_SANITIZE_ADDRESS)
#define SCALE(n) ((n) / 5 > 0 ? (n) / 5 : 1)
#else
#define SCALE(n) (n)
#endif

/* Goroutines alive at once: TSan keeps a thread state per goroutine and
 * allows 8128 of them, like Go's race detector. */
#if defined(GOC_SANITIZE_THREAD)
#define SCALE_LIVE(n) ((n) < 4000 ? (n) : 4000)
#else
#define SCALE_LIVE(n) SCALE(n)
#endif

static int test_failures_now;
static int test_passed, test_failed;
static const char *test_self;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            test_failures_now++;                                                         \
        }                                                                                \
    } while (0)

#define TEST(name) static void test_##name(void)

/* A test gives up (the failure recorded) when cond is false. */
#define REQUIRE(cond)                                                                    \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            CHECK(cond);                                                                 \
            return;                                                                      \
        }                                                                                \
    } while (0)

/* RUN's two halves, for a runner that checks more around the test
 * (leak.h's LRUN). */
static inline void test_begin(const char *name)
{
    test_failures_now = 0;
    fprintf(stderr, "=== RUN   %s\n", name);
}

static inline void test_end(const char *name)
{
    if (test_failures_now) {
        test_failed++;
        fprintf(stderr, "--- FAIL: %s\n", name);
    } else {
        test_passed++;
        fprintf(stderr, "--- PASS: %s\n", name);
    }
}

#define RUN(name)                                                                        \
    do {                                                                                 \
        test_begin(#name);                                                               \
        test_##name();                                                                   \
        test_end(#name);                                                                 \
    } while (0)

static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    fflush(stdout);
    return test_failed ? 1 : 0;
}

/* GOC_TEST_RUNNER: the emulator the tests run under (qemu-user runs the
 * AArch64 build), which a child program needs too; NULL when there is
 * none. */
static inline const char *test_runner(void)
{
    const char *runner = getenv("GOC_TEST_RUNNER");
    return runner && *runner ? runner : NULL;
}

/* A scenario run_child can run: "<self> <name>" runs fn under goc_main. */
struct test_scenario {
    const char *name;
    int (*fn)(int argc, char **argv);
};

/* In main, when argv[1] is given: runs the scenario it names (n of them in
 * table) and returns its status; 127 for a name not in table. */
static inline int run_scenario(int argc, char **argv, const struct test_scenario *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], table[i].name) == 0)
            return goc_main(table[i].fn, argc, argv);
    fprintf(stderr, "%s: no scenario %s\n", argv[0], argv[1]);
    return 127;
}

/* A test program's main: argv[1] names one of the n scenarios of table
 * (run_scenario runs it), else run_all runs the program's tests under
 * goc_main. */
static inline int test_main(int argc, char **argv, const struct test_scenario *table, size_t n,
                            int (*run_all)(int argc, char **argv))
{
    test_self = argv[0];
    if (argc > 1)
        return run_scenario(argc, argv, table, n);
    return goc_main(run_all, argc, argv);
}

/* Runs "<self> <scenario>" with extra environment entries (NAME=VALUE,
 * NULL-terminated list, may be NULL); collects its stderr and stdout into
 * out. Returns the exit status, or 128+signal if it was killed. */
static inline int run_child(const char *scenario, const char *const *env, char *out, size_t outsz)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        /* A child that dies on purpose must not be reported by the
         * sanitizers as leaking, nor make them change its exit status. */
        putenv("ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:use_sigaltstack=1");
        putenv("TSAN_OPTIONS=report_signal_unsafe=0:halt_on_error=1:exitcode=66");
        const char *runner = test_runner();
        if (runner)
            execlp(runner, runner, test_self, scenario, (char *)NULL);
        else
            execl(test_self, test_self, scenario, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(pfd[0], out + n, n + 1 < outsz ? outsz - n - 1 : 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (n + 1 >= outsz) { /* drain the rest */
                char junk[4096];
                if (read(pfd[0], junk, sizeof junk) > 0)
                    continue;
            }
            break;
        }
        n += (size_t)r;
    }
    out[n] = 0;
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

#endif
