/* errgroup.c: golang.org/x/sync/errgroup.
 *
 * A subtask is counted in wg from before its goroutine starts until after
 * it has recorded its error; with a limit, it also holds one unit of sem
 * over the same span (sem plays x/sync's channel of tokens: FIFO for go,
 * no waiting for try_go). The first error wins err_once (an atomic flag),
 * is stored in err, and cancels the context; wait reads err after wg's wait,
 * which orders it after every subtask's store. ctx is written by
 * with_context and wait only, which the caller orders with respect to the
 * subtasks (go, or wait's completion), so subtasks read it without a lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "goc/errgroup.h"
#include "internal.h"

typedef struct task {
    goc_errgroup *g;
    goc_errgroup_fn fn;
    void *arg;
    bool unit; /* holds a unit of g->sem */
} task;

void goc_errgroup_init(goc_errgroup *g) { *g = (goc_errgroup)GOC_ERRGROUP_INIT; }

goc_ctx *goc_errgroup_with_context(goc_errgroup *g, goc_ctx *parent)
{
    goc_errgroup_init(g);
    goc_ctx *ctx = goc_with_cancel_cause(parent);
    if (!ctx)
        return NULL;
    g->ctx = goc_ctx_retain(ctx);
    return ctx;
}

static void fail(goc_errgroup *g, int err)
{
    uint32_t zero = 0;
    if (__atomic_compare_exchange_n(&g->err_once, &zero, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED)) {
        g->err = err;
        if (g->ctx)
            goc_cancel_cause(g->ctx, err);
    }
}

static void done(goc_errgroup *g, bool unit)
{
    if (unit)
        goc_sema_release(&g->sem, 1);
    goc_waitgroup_done(&g->wg);
}

/* arg: the task record, on the goroutine's own stack (goc__go_copy). */
static void run(void *arg)
{
    task t = *(task *)arg;
    int err = t.fn(t.arg);
    if (err)
        fail(t.g, err);
    done(t.g, t.unit);
}

/* With the unit (if limited) held: counts and starts the subtask. */
static void start(goc_errgroup *g, goc_errgroup_fn fn, void *arg, bool unit)
{
    goc_waitgroup_add(&g->wg, 1);
    task t = {g, fn, arg, unit};
    int64_t r = goc__go_copy(run, &t, sizeof t, "goc_errgroup_go", 0);
    if (r < 0) {
        fail(g, (int)r);
        done(g, unit);
    }
}

void goc_errgroup_go(goc_errgroup *g, goc_errgroup_fn fn, void *arg)
{
    bool unit = g->limited;
    if (unit)
        goc_sema_acquire(&g->sem, 1);
    start(g, fn, arg, unit);
}

bool goc_errgroup_try_go(goc_errgroup *g, goc_errgroup_fn fn, void *arg)
{
    bool unit = g->limited;
    if (unit && !goc_sema_try_acquire(&g->sem, 1))
        return false;
    start(g, fn, arg, unit);
    return true;
}

void goc_errgroup_set_limit(goc_errgroup *g, int n)
{
    if (n < 0) {
        g->limited = false;
        return;
    }
    if (g->limited) {
        goc__spin_lock((goc_spinlock *)&g->sem.lock);
        int64_t active = g->sem.cur;
        goc__spin_unlock((goc_spinlock *)&g->sem.lock);
        if (active)
            goc_panic("errgroup: modify limit while %lld goroutines in the group are still active",
                      (long long)active);
    }
    goc_sema_init(&g->sem, n);
    g->limited = true;
}

int goc_errgroup_wait(goc_errgroup *g)
{
    goc_waitgroup_wait(&g->wg);
    goc_ctx *ctx = g->ctx;
    int err = __atomic_load_n(&g->err_once, __ATOMIC_ACQUIRE) ? g->err : 0;
    if (ctx) {
        g->ctx = NULL;
        goc_cancel_cause(ctx, err);
        goc_ctx_unref(ctx);
    }
    return err;
}
