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
 */
#include <stdio.h>

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

static tracker fast, slow;

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
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
