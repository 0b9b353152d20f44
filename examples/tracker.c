/* tracker.c: the event Tracker that owns its goroutine: Run drains events, Shutdown(ctx) waits for it, but not past ctx's deadline (seed 003).
 *
 *     type Tracker struct {
 *         ch   chan string
 *         stop chan struct{}
 *     }
 *     func (t *Tracker) Event(ctx context.Context, data string) error {
 *         select {
 *         case t.ch <- data:
 *             return nil
 *         case <-ctx.Done():
 *             return ctx.Err()
 *         }
 *     }
 *     func (t *Tracker) Run() {
 *         for data := range t.ch {
 *             time.Sleep(1 * time.Millisecond)
 *             fmt.Println(data)
 *         }
 *         t.stop <- struct{}{}
 *     }
 *     func (t *Tracker) Shutdown(ctx context.Context) {
 *         close(t.ch)
 *         select {
 *         case <-t.stop:
 *         case <-ctx.Done():
 *         }
 *     }
 *
 * The lesson: know when the goroutine ends and be able to end it; leave
 * the concurrency to the caller (main starts Run). First a tracker whose
 * Shutdown sees every event out within its 5 s; then a slow one (100 ms
 * per event) whose Shutdown gives up at its 50 ms deadline, and whose
 * Event, once the buffer is full, gives up with its caller's context.
 * The trackers are static: the slow one's goroutine is still draining
 * when main returns (the process then ends, as a Go program's would).
 *
 * The seed's two earlier versions come first in its notes, and here as
 * `tracker 1` and `tracker 2` (no argument: the version above):
 *
 *     func (a *App) Handle(w http.ResponseWriter, r *http.Request) {
 *         w.WriteHeader(http.StatusCreated)
 *         go a.track.Event("this event") // nobody knows when it ends
 *     }
 *
 * 1: every request starts a goroutine that logs its event 1 ms later, and
 *    nothing waits for them: main returns with them still running, and
 *    their events are lost with the process.
 * 2: Event counts its goroutine in a WaitGroup and Shutdown waits for
 *    them: every event is logged before Shutdown returns, but Shutdown
 *    cannot give up (no deadline) and a busy server still starts a
 *    goroutine per request.
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

typedef struct tracker {
    goc_chan *ch;   /* events, capacity 10 */
    goc_chan *stop; /* Run's "done", capacity 1 */
    int64_t work;   /* time per event */
} tracker;

static void tracker_init(tracker *t, int64_t work)
{
    t->ch = goc_chan_make(sizeof(const char *), 10);
    t->stop = goc_chan_make(0, 1);
    t->work = work;
}

static int tracker_event(tracker *t, goc_ctx *ctx, const char *data)
{
    return goc_chan_send_ctx(t->ch, &data, ctx);
}

static void tracker_run(void *arg)
{
    tracker *t = arg;
    const char *data;
    while (goc_chan_recv(t->ch, &data)) {
        goc_sleep(t->work);
        printf("%s\n", data);
        fflush(stdout);
    }
    goc_chan_send(t->stop, NULL);
}

static int tracker_shutdown(tracker *t, goc_ctx *ctx)
{
    goc_chan_close(t->ch);
    goc_select_case cases[] = {
        GOC_RECV_CASE(t->stop, NULL),
        GOC_RECV_CASE(goc_ctx_done(ctx), NULL),
    };
    return goc_select(cases, 2, false) == 0 ? 0 : goc_ctx_err(ctx);
}

/* ---- Versions 1 and 2 ---- */

enum { REQUESTS = 5 };
static const char *const request_events[REQUESTS] = {"event 1", "event 2", "event 3", "event 4",
                                                     "event 5"};

/* func (t *Tracker) Event(data string): 1 ms of work, then the log line. */
static void log_event(const char *data)
{
    goc_sleep(GOC_MILLISECOND);
    printf("%s\n", data);
    fflush(stdout);
}

static void event_v1(void *arg) { log_event(arg); }

/* Version 2's Tracker: a WaitGroup of its goroutines. */
static goc_waitgroup tracked = GOC_WAITGROUP_INIT;

static void event_v2(void *arg)
{
    log_event(arg);
    goc_waitgroup_done(&tracked); /* defer t.wg.Done() */
}

static int early_versions(int version)
{
    int before = goc_num_goroutine();
    for (int i = 0; i < REQUESTS; i++) { /* a.Handle(w, r) per request */
        printf("request %d: 201 Created\n", i + 1);
        if (version == 1) {
            goc_go(event_v1, (void *)request_events[i]);
        } else {
            goc_waitgroup_add(&tracked, 1);
            goc_go(event_v2, (void *)request_events[i]);
        }
    }
    if (version == 2) {
        goc_waitgroup_wait(&tracked); /* a.track.Shutdown() */
        printf("shutdown: every event logged\n");
    } else {
        /* Some may be past their log line, still on their way out. */
        printf("main returns with %d tracker goroutines running\n",
               goc_num_goroutine() - before);
    }
    fflush(stdout);
    return 0;
}

/* ---- Version 3 ---- */

static tracker fast, slow;

static int real_main(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "1") == 0 || strcmp(argv[1], "2") == 0)
            return early_versions(argv[1][0] - '0');
        fprintf(stderr, "usage: tracker [1|2]\n");
        return 2;
    }
    tracker_init(&fast, GOC_MILLISECOND);
    goc_go(tracker_run, &fast);
    const char *events[] = {"event 1", "event 2", "event 3"};
    for (int i = 0; i < 3; i++)
        tracker_event(&fast, goc_background(), events[i]);
    goc_ctx *ctx = goc_with_timeout(goc_background(), 5 * GOC_SECOND);
    printf("shutdown: %s\n", goc_ctx_err_str(tracker_shutdown(&fast, ctx)));
    goc_ctx_release(ctx);

    tracker_init(&slow, 100 * GOC_MILLISECOND);
    goc_go(tracker_run, &slow);
    ctx = goc_with_timeout(goc_background(), 50 * GOC_MILLISECOND);
    int sent = 0, err;
    static char names[20][24];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "slow event %d", i + 1);
        if ((err = tracker_event(&slow, ctx, names[i])) != 0)
            break;
        sent++;
    }
    printf("%d events queued, then: %s\n", sent, goc_ctx_err_str(err));
    goc_ctx_release(ctx);
    ctx = goc_with_timeout(goc_background(), 50 * GOC_MILLISECOND);
    printf("shutdown: %s\n", goc_ctx_err_str(tracker_shutdown(&slow, ctx)));
    fflush(stdout);
    goc_ctx_release(ctx);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
