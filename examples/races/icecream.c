/* races/icecream.c: seed 001, case 6 (Dave Cheney's "Ice cream makers and
 * data races"): a two-word value torn between writers.
 *
 *     var maker IceCreamMaker = ben
 *     loop0 = func() { maker = ben;   go loop1() }
 *     loop1 = func() { maker = jerry; go loop0() }
 *     go loop0()
 *     for { maker.Hello() }
 *
 * A Go interface is two words (type, data); so is `maker` here: the
 * greeting function and the name. A reader can see Ben's function with
 * Jerry's name: "Ben says, Hello my name is Jerry".
 * Usage: icecream racy|mutex|atomic
 *   racy    plain two-word copies: the race detector reports the torn
 *           write and read, exit 66
 *   mutex   maker under a goc_mutex
 *   atomic  maker is one pointer to an immutable maker, stored and loaded
 *           atomically (atomic.Value's way)
 * The loops run a bounded number of times. The fixed versions print how
 * many greetings were torn: 0.
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

typedef struct maker {
    const char *(*hello)(void); /* the "type" word: whose greeting */
    const char *name;           /* the "data" word */
} maker;

static const char *ben_hello(void) { return "Ben"; }
static const char *jerry_hello(void) { return "Jerry"; }

static const maker ben = {ben_hello, "Ben"}, jerry = {jerry_hello, "Jerry"};

static maker shared;              /* racy and mutex */
static const maker *shared_ptr;   /* atomic */
static goc_mutex mu = GOC_MUTEX_INIT;
static int variant;               /* 0 racy, 1 mutex, 2 atomic */
static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static int hops = 200;

static void set_maker(const maker *m)
{
    switch (variant) {
    case 0: shared = *m; break;
    case 1:
        goc_mutex_lock(&mu);
        shared = *m;
        goc_mutex_unlock(&mu);
        break;
    default: __atomic_store_n(&shared_ptr, m, __ATOMIC_RELEASE);
    }
}

static maker get_maker(void)
{
    maker m;
    switch (variant) {
    case 0: return shared;
    case 1:
        goc_mutex_lock(&mu);
        m = shared;
        goc_mutex_unlock(&mu);
        return m;
    default: return *__atomic_load_n(&shared_ptr, __ATOMIC_ACQUIRE);
    }
}

static void loop1(void *arg);

static void loop0(void *arg)
{
    int n = (int)(long)arg;
    set_maker(&ben);
    if (n < hops)
        goc_go(loop1, (void *)(long)(n + 1));
    else
        goc_waitgroup_done(&wg);
}

static void loop1(void *arg)
{
    int n = (int)(long)arg;
    set_maker(&jerry);
    if (n < hops)
        goc_go(loop0, (void *)(long)(n + 1));
    else
        goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    variant = strcmp(v, "racy") == 0 ? 0 : strcmp(v, "mutex") == 0 ? 1 : strcmp(v, "atomic") == 0 ? 2 : -1;
    if (variant < 0) {
        fprintf(stderr, "usage: icecream racy|mutex|atomic\n");
        return 2;
    }
    shared = ben;
    shared_ptr = &ben;
    goc_waitgroup_add(&wg, 1);
    goc_go(loop0, (void *)0L);
    int torn = 0;
    for (int i = 0; i < 2000; i++) {
        maker m = get_maker(); /* maker.Hello() */
        if (strcmp(m.hello(), m.name) != 0) {
            printf("%s says, \"Hello my name is %s\"\n", m.hello(), m.name);
            torn++;
        }
        if (i % 10 == 0)
            goc_yield();
    }
    goc_waitgroup_wait(&wg);
    printf("%d torn greetings\n", torn);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
