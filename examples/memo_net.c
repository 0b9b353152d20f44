/* memo_net.c: the concurrent non-blocking memo cache fetching pages over the network from a local server: many goroutines ask for a few URLs at once, and the server sees each URL asked for once (seed 000, seed 002 §2.6.4).
 *
 *     func parseUrl(url string) (interface{}, error) {   // httpGetBody
 *         resp, err := http.Get(url)
 *         if err != nil {
 *             return nil, err
 *         }
 *         defer resp.Body.Close()
 *         return ioutil.ReadAll(resp.Body)
 *     }
 *
 *     type entry struct {
 *         res   result
 *         ready chan struct{} // closed when res is ready
 *     }
 *
 *     func (memo *Memo) Get(key string) (value interface{}, err error) {
 *         memo.mu.Lock()
 *         e := memo.cache[key]
 *         if e == nil {
 *             // This is the first request for this key.
 *             // This goroutine becomes responsible for computing
 *             // the value and broadcasting the ready condition.
 *             e = &entry{ready: make(chan struct{})}
 *             memo.cache[key] = e
 *             memo.mu.Unlock()
 *             e.res.value, e.res.err = memo.f(key)
 *             close(e.ready) // broadcast ready condition
 *         } else {
 *             // This is a repeat request for this key.
 *             memo.mu.Unlock()
 *             <-e.ready // wait for ready condition
 *         }
 *         return e.res.value, e.res.err
 *     }
 *
 * and the book's driver (gopl.io/ch9/memotest), which prints the timings:
 *
 *     var n sync.WaitGroup
 *     for url := range incomingURLs() {
 *         n.Add(1)
 *         go func(url string) {
 *             defer n.Done()
 *             start := time.Now()
 *             value, err := m.Get(url)
 *             if err != nil {
 *                 log.Print(err)
 *                 return
 *             }
 *             fmt.Printf("%s, %s, %d bytes\n",
 *                 url, time.Since(start), len(value.([]byte)))
 *         }(url)
 *     }
 *     n.Wait()
 *
 * The Memo is goc's (goc_memo, goc/memo.h: the same entries with a ready
 * broadcast). The pages come from a server in this program standing in
 * for the seed's four sites (golang.org, godoc.org, play.golang.org,
 * gopl.io): it serves each one's page at its path, as big as the book's,
 * after a delay that plays the far site's latency (the book's timings,
 * 115-749 ms; MEMO_NET_LATENCY_MS sets one for all), and counts the
 * requests it gets for each. Every URL is asked for by N
 * goroutines at once (memo_net [N], default 5; the book asks twice): all N
 * wait about as long as the one fetch, and the server's count is 1 per
 * URL. Then each URL once more, from the cache: microseconds. Durations
 * are printed as Go prints a time.Duration.
 *
 * Lifetimes: the server runs in a goroutine of its own, which main shuts
 * down (Shutdown) and joins before it ends; the cache owns the pages,
 * freed with it. HTTP is examples/httpmini.h (goc has no net/http):
 * HTTP/1.0, one request per connection.
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

#include <stdatomic.h>

/* ---- The local server: the four sites ---- */

/* Each site's page size and latency are the book's figures for it. */
typedef struct site {
    const char *path;
    size_t size;
    int64_t latency;
    atomic_int requests;
} site;

static site sites[] = {
    {"/golang.org", 7537, 175 * GOC_MILLISECOND, 0},
    {"/godoc.org", 6878, 172 * GOC_MILLISECOND, 0},
    {"/play.golang.org", 5767, 115 * GOC_MILLISECOND, 0},
    {"/gopl.io", 2856, 749 * GOC_MILLISECOND, 0},
};
#define NSITES (sizeof sites / sizeof sites[0])

static void serve_page(void *arg, http_response *w, const char *path)
{
    (void)path;
    site *s = arg;
    atomic_fetch_add(&s->requests, 1);
    goc_sleep(s->latency); /* the far site */
    for (size_t n = 0; n < s->size; n += strlen(s->path))
        http_write(w, s->path, s->size - n < strlen(s->path) ? s->size - n : strlen(s->path));
}

/* ---- httpGetBody: the function the memo caches ---- */

typedef struct page {
    size_t len;
    char *body;
} page;

static void page_free(void *p)
{
    free(((page *)p)->body);
    free(p);
}

static int http_get_body(void *arg, const void *key, size_t keylen, void **value)
{
    (void)arg;
    char url[512];
    snprintf(url, sizeof url, "%.*s", (int)keylen, (const char *)key);
    http_response resp;
    int err = http_get(url, &resp);
    if (err)
        return err;
    page *p = malloc(sizeof *p);
    if (!p)
        log_fatal("out of memory");
    *p = (page){resp.len, resp.body}; /* ioutil.ReadAll: the body is the page */
    *value = p;
    return 0;
}

/* ---- The driver ---- */

/* time.Duration.String(): "101.234567ms", "2.1µs", "1.5s" (under a
 * minute). */
static const char *go_duration(int64_t d, char buf[32])
{
    static const struct {
        int64_t unit;
        int digits;
        const char *name;
    } units[] = {{1000000000, 9, "s"}, {1000000, 6, "ms"}, {1000, 3, "µs"}};
    if (d == 0)
        return "0s";
    for (size_t i = 0; i < 3; i++) {
        if (d < units[i].unit)
            continue;
        int n = snprintf(buf, 32, "%lld.%0*lld", (long long)(d / units[i].unit), units[i].digits,
                         (long long)(d % units[i].unit));
        while (buf[n - 1] == '0')
            n--;
        if (buf[n - 1] == '.')
            n--;
        snprintf(buf + n, 32 - (size_t)n, "%s", units[i].name);
        return buf;
    }
    snprintf(buf, 32, "%lldns", (long long)d);
    return buf;
}

struct get_arg {
    goc_memo *m;
    const char *url;
};

static void get(void *arg)
{
    struct get_arg *a = arg;
    int64_t start = goc_now();
    void *value;
    int err = goc_memo_get(a->m, a->url, strlen(a->url), &value);
    char buf[64];
    if (err) {
        log_print("%s", http_err_str(err, buf));
        return;
    }
    printf("%s, %s, %zu bytes\n", a->url, go_duration(goc_now() - start, buf),
           ((page *)value)->len);
}

static int real_main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    if (n < 1 || argc > 2) {
        fprintf(stderr, "usage: memo_net [N]  (each URL asked for by N goroutines at once)\n");
        return 2;
    }
    if (getenv("MEMO_NET_LATENCY_MS"))
        for (size_t i = 0; i < NSITES; i++)
            sites[i].latency = env_millis("MEMO_NET_LATENCY_MS", 0);

    /* The sites' server, in its own goroutine. */
    http_route routes[NSITES];
    for (size_t i = 0; i < NSITES; i++)
        routes[i] = (http_route){sites[i].path, serve_page, &sites[i]};
    http_local server;
    http_local_start(&server, "server", routes, NSITES);
    char urls[NSITES][GOC_ADDRSTRLEN + 32];
    for (size_t i = 0; i < NSITES; i++)
        snprintf(urls[i], sizeof urls[i], "http://%s%s", server.addr, sites[i].path);

    goc_memo *m = goc_memo_new(http_get_body, NULL, page_free);
    if (!m)
        log_fatal("out of memory");

    /* Concurrent: every URL, n times, all at once (incomingURLs). */
    size_t total = (size_t)n * NSITES;
    struct get_arg *args = calloc(total, sizeof *args);
    if (!args)
        log_fatal("out of memory");
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (size_t i = 0; i < total; i++) {
        args[i] = (struct get_arg){m, urls[i % NSITES]};
        goc_waitgroup_go(&wg, get, &args[i]);
    }
    goc_waitgroup_wait(&wg);

    /* Sequential: each once more, from the cache. */
    printf("again, one after the other:\n");
    for (size_t i = 0; i < NSITES; i++)
        get(&args[i]);

    int fetches = 0;
    printf("the server was asked for:\n");
    for (size_t i = 0; i < NSITES; i++) {
        int r = atomic_load(&sites[i].requests);
        fetches += r;
        printf("  %s %d time%s\n", sites[i].path, r, r == 1 ? "" : "s");
    }
    printf("%zu requests, %d fetches\n", total + NSITES, fetches);
    fflush(stdout);

    http_local_stop(&server);
    goc_memo_free(m);
    free(args);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
