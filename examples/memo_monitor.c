/* memo_monitor.c: the memo cache whose map is owned by a monitor goroutine: requests come in on a channel, and no lock is needed (seed 002 §2.6.5).
 *
 *     type request struct {
 *         key      string
 *         response chan<- result // the client wants a single result
 *     }
 *     type Memo struct{ requests chan request }
 *     func New(f Func) *Memo {
 *         memo := &Memo{requests: make(chan request)}
 *         go memo.server(f)
 *         return memo
 *     }
 *     func (memo *Memo) Get(key string) (interface{}, error) {
 *         response := make(chan result)
 *         memo.requests <- request{key, response}
 *         res := <-response
 *         return res.value, res.err
 *     }
 *     func (memo *Memo) Close() { close(memo.requests) }
 *     func (memo *Memo) server(f Func) {
 *         cache := make(map[string]*entry)
 *         for req := range memo.requests {
 *             e := cache[req.key]
 *             if e == nil {
 *                 // This is the first request for this key.
 *                 e = &entry{ready: make(chan struct{})}
 *                 cache[req.key] = e
 *                 go e.call(f, req.key) // call f(key)
 *             }
 *             go e.deliver(req.response)
 *         }
 *     }
 *     func (e *entry) call(f Func, key string) {
 *         e.res.value, e.res.err = f(key)
 *         close(e.ready) // broadcast the ready condition
 *     }
 *     func (e *entry) deliver(response chan<- result) {
 *         <-e.ready // wait for the ready condition
 *         response <- e.res
 *     }
 *
 * The seed fetches URLs over HTTP (httpGetBody); here the fetch is
 * simulated: it sleeps 20 ms and returns a body whose size depends on the
 * URL. Every URL is asked for twice, all at once: each is fetched once,
 * and its duplicate waits for the same entry. The library type goc_memo
 * (goc/memo.h) is the seed's other version: a mutex and the same entries.
 *
 * Lifetimes in C: the map (a list here) belongs to the server goroutine,
 * which frees the entries when the requests channel is closed (every Get
 * has returned by then) and then closes `done`, which Close waits for.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

typedef int (*func)(const char *key, void **value);

typedef struct result {
    void *value;
    int err;
} result;

typedef struct entry {
    result res;
    goc_chan *ready; /* closed when res is ready */
    char *key;
    struct entry *next;
} entry;

typedef struct request {
    const char *key;
    goc_chan *response; /* the client wants a single result */
} request;

typedef struct memo {
    goc_chan *requests;
    goc_chan *done; /* closed once the server has ended */
    func f;
} memo;

struct call_arg {
    entry *e;
    func f;
};

static void entry_call(void *arg)
{
    struct call_arg *c = arg;
    c->e->res.err = c->f(c->e->key, &c->e->res.value);
    goc_chan_close(c->e->ready); /* broadcast the ready condition */
    free(c);
}

struct deliver_arg {
    entry *e;
    goc_chan *response;
};

static void entry_deliver(void *arg)
{
    struct deliver_arg d = *(struct deliver_arg *)arg;
    free(arg);
    goc_chan_recv(d.e->ready, NULL); /* wait for the ready condition */
    goc_chan_send(d.response, &d.e->res);
}

static void server(void *arg)
{
    memo *m = arg;
    entry *cache = NULL;
    request req;
    while (goc_chan_recv(m->requests, &req)) {
        entry *e = cache;
        while (e && strcmp(e->key, req.key) != 0)
            e = e->next;
        if (!e) { /* the first request for this key */
            e = calloc(1, sizeof *e);
            e->ready = goc_chan_make(0, 0);
            e->key = strdup(req.key);
            e->next = cache;
            cache = e;
            struct call_arg *c = malloc(sizeof *c);
            *c = (struct call_arg){e, m->f};
            goc_go(entry_call, c);
        }
        struct deliver_arg *d = malloc(sizeof *d);
        *d = (struct deliver_arg){e, req.response};
        goc_go(entry_deliver, d);
    }
    while (cache) {
        entry *next = cache->next;
        free(cache->res.value);
        free(cache->key);
        goc_chan_release(cache->ready);
        free(cache);
        cache = next;
    }
    goc_chan_close(m->done);
}

static memo *memo_new(func f)
{
    memo *m = malloc(sizeof *m);
    m->requests = goc_chan_make(sizeof(request), 0);
    m->done = goc_chan_make(0, 0);
    m->f = f;
    goc_go(server, m);
    return m;
}

static int memo_get(memo *m, const char *key, void **value)
{
    goc_chan *response = goc_chan_make(sizeof(result), 0);
    request req = {key, response};
    goc_chan_send(m->requests, &req);
    result res;
    goc_chan_recv(response, &res);
    goc_chan_release(response);
    *value = res.value;
    return res.err;
}

static void memo_close(memo *m)
{
    goc_chan_close(m->requests);
    goc_chan_recv(m->done, NULL);
    goc_chan_release(m->requests);
    goc_chan_release(m->done);
    free(m);
}

/* ---- The seed's test driver, with a simulated fetch ---- */

typedef struct body {
    size_t len;
} body;

static atomic_int fetches;

static int http_get_body(const char *url, void **value)
{
    atomic_fetch_add(&fetches, 1);
    goc_sleep(20 * GOC_MILLISECOND); /* the network */
    body *b = malloc(sizeof *b);
    b->len = 1000 * strlen(url);
    *value = b;
    return 0;
}

static const char *urls[] = {
    "https://golang.org", "https://godoc.org", "https://play.golang.org", "http://gopl.io",
};

struct get_arg {
    memo *m;
    const char *url;
    goc_waitgroup *wg;
};

static void get_one(void *arg)
{
    struct get_arg *a = arg;
    int64_t start = goc_now();
    void *value;
    int err = memo_get(a->m, a->url, &value);
    if (err)
        printf("%s: error %d\n", a->url, err);
    else
        printf("%s, %.0f ms, %zu bytes\n", a->url, (double)(goc_now() - start) / 1e6,
               ((body *)value)->len);
    goc_waitgroup_done(a->wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    memo *m = memo_new(http_get_body);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct get_arg args[8];
    for (int i = 0; i < 8; i++) { /* incomingURLs: each URL twice */
        args[i] = (struct get_arg){m, urls[i % 4], &wg};
        goc_waitgroup_add(&wg, 1);
        goc_go(get_one, &args[i]);
    }
    goc_waitgroup_wait(&wg);
    printf("%d requests, %d fetches\n", 8, atomic_load(&fetches));
    memo_close(m);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
