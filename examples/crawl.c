/* crawl.c: the concurrent web crawler, three ways: a goroutine per link, a semaphore of 20 tokens with termination, 20 crawler goroutines (seed 002 §1.7, gopl.io/ch8/crawl1-3).
 *
 * crawl1, too much concurrency: every link found gets its own goroutine.
 *
 *     func crawl(url string) []string {
 *         fmt.Println(url)
 *         list, err := links.Extract(url)
 *         if err != nil {
 *             log.Print(err)
 *         }
 *         return list
 *     }
 *
 *     func main() {
 *         worklist := make(chan []string)
 *         go func() { worklist <- os.Args[1:] }()
 *         seen := make(map[string]bool)
 *         for list := range worklist {
 *             for _, link := range list {
 *                 if !seen[link] {
 *                     seen[link] = true
 *                     go func(link string) {
 *                         worklist <- crawl(link)
 *                     }(link)
 *                 }
 *             }
 *         }
 *     }
 *
 * crawl2: a buffered channel as a counting semaphore (tokens) allows 20
 * links.Extract calls at once, and n, the number of sends to worklist still
 * to come, lets the loop end once the crawl is done:
 *
 *     var tokens = make(chan struct{}, 20)
 *
 *     func crawl(url string) []string {
 *         fmt.Println(url)
 *         tokens <- struct{}{} // acquire a token
 *         list, err := links.Extract(url)
 *         <-tokens // release the token
 *         ...
 *     }
 *
 *     func main() {
 *         worklist := make(chan []string)
 *         var n int // number of pending sends to worklist
 *         n++
 *         go func() { worklist <- os.Args[1:] }()
 *         seen := make(map[string]bool)
 *         for ; n > 0; n-- {
 *             list := <-worklist
 *             for _, link := range list {
 *                 if !seen[link] {
 *                     seen[link] = true
 *                     n++
 *                     go func(link string) {
 *                         worklist <- crawl(link)
 *                     }(link)
 *                 }
 *             }
 *         }
 *     }
 *
 * crawl3: 20 long-lived crawler goroutines take de-duplicated links from
 * unseenLinks; each sends what it found to worklist from a goroutine of its
 * own, since main (receiving from worklist, then sending to unseenLinks)
 * and the crawlers (the other way round) would otherwise wait on each other
 * for ever:
 *
 *     func main() {
 *         worklist := make(chan []string)  // lists of URLs, may have duplicates
 *         unseenLinks := make(chan string) // de-duplicated URLs
 *         go func() { worklist <- os.Args[1:] }()
 *         for i := 0; i < 20; i++ {
 *             go func() {
 *                 for link := range unseenLinks {
 *                     foundLinks := crawl(link)
 *                     go func() { worklist <- foundLinks }()
 *                 }
 *             }()
 *         }
 *         seen := make(map[string]bool)
 *         for list := range worklist {
 *             for _, link := range list {
 *                 if !seen[link] {
 *                     seen[link] = true
 *                     unseenLinks <- link
 *                 }
 *             }
 *         }
 *     }
 *
 * Usage: crawl [1|2|3] [URL ...]. With URLs, that version (crawl2 if none
 * is named) crawls from them,
 * as the seed's programs do (HTTP/1.0 over examples/httpmini.h: http://
 * links only; crawl1 and crawl3 never end by themselves, as in Go). Without
 * URLs (the demo, and the tests), each version named (all three if none)
 * crawls a site that this program serves itself: PAGES pages at
 * /page/N, each linking to a few others, back to its parent and to the
 * root (cycles and duplicates, as on the web), each served after a short
 * delay that stands in for the network. The site counts the fetches of
 * each page and the most it served at once, and the demo prints both after
 * the URLs: crawl1's fetches all run at once (on the web, thousands of
 * connections and "socket: too many open files"), the other two never
 * more than 20; every page is fetched once. crawl2 ends by itself when n
 * drops to 0. crawl1 and crawl3 do not: once the site has served every
 * page, the demo stops waiting for them and leaves their goroutines
 * blocked, as a Go program would that went on to other work (their
 * channels are never freed: goroutines still use them).
 *
 * Ownership: a list sent on worklist belongs to its receiver, which keeps
 * the strings it has not seen (in seen) and frees the rest. Each goroutine
 * holds a reference to the channels it uses (goc/chan.h's rule), released
 * when it ends; in crawl2 the loop also waits for the senders to end
 * before it releases worklist (in Go the collector would).
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

#include <stdatomic.h>

#define PAGES 80
#define FANOUT 8
#define LIMIT 20 /* tokens (crawl2), crawler goroutines (crawl3) */

/* ---- []string ---- */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_add(strlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            log_fatal("out of memory");
    }
    l->v[l->n++] = s;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d)
        log_fatal("out of memory");
    return d;
}

/* ---- seen: a set of strings, owned by the loop that uses it ---- */

#define SEEN_BUCKETS 4096

typedef struct seen_node {
    struct seen_node *next;
    char *s;
} seen_node;

typedef struct seen_set {
    seen_node *b[SEEN_BUCKETS];
} seen_set;

/* seen[s] = true, taking s; false (s freed) if it was there already. */
static bool seen_add(seen_set *m, char *s)
{
    size_t h = 5381;
    for (const char *p = s; *p; p++)
        h = h * 33 + (unsigned char)*p;
    seen_node **b = &m->b[h % SEEN_BUCKETS];
    for (seen_node *e = *b; e; e = e->next) {
        if (strcmp(e->s, s) == 0) {
            free(s);
            return false;
        }
    }
    seen_node *e = malloc(sizeof *e);
    if (!e)
        log_fatal("out of memory");
    *e = (seen_node){*b, s};
    *b = e;
    return true;
}

static void seen_free(seen_set *m)
{
    for (size_t i = 0; i < SEEN_BUCKETS; i++) {
        for (seen_node *e = m->b[i], *next; e; e = next) {
            next = e->next;
            free(e->s);
            free(e);
        }
    }
    free(m);
}

static seen_set *seen_new(void)
{
    seen_set *m = calloc(1, sizeof *m);
    if (!m)
        log_fatal("out of memory");
    return m;
}

/* ---- links.Extract ---- */

/* href resolved against the page at base, as url.Parse(base).Parse(href)
 * does for the forms a page uses: absolute ("http://h/p"), host-relative
 * ("/p") and relative ("p", next to base's last segment). The fragment is
 * dropped. NULL for what the crawler cannot fetch (another scheme). */
static char *resolve(const char *base, const char *href, size_t n)
{
    size_t frag = 0;
    while (frag < n && href[frag] != '#')
        frag++;
    n = frag;
    if (n == 0)
        return NULL;
    if (n > 7 && strncmp(href, "http://", 7) == 0)
        return xstrndup(href, n);
    if (memchr(href, ':', n))
        return NULL; /* https:, mailto:, javascript: ... */
    const char *host = base + 7, *path = strchr(host, '/');
    size_t keep = path ? (size_t)(path - base) : strlen(base); /* "http://host" */
    if (href[0] != '/' && path)
        keep = (size_t)(strrchr(path, '/') - base) + 1; /* up to the last '/' */
    char *u = malloc(keep + n + 2);
    if (!u)
        log_fatal("out of memory");
    memcpy(u, base, keep);
    size_t len = keep;
    if (href[0] != '/' && !path)
        u[len++] = '/';
    memcpy(u + len, href, n);
    u[len + n] = 0;
    return u;
}

/* The links on the HTML page at url (every href="..."), resolved. */
static int links_extract(const char *url, strlist *out, char err[256])
{
    http_response resp;
    int e = http_get(url, &resp);
    char buf[64];
    if (e) {
        snprintf(err, 256, "Get \"%s\": %s", url, http_err_str(e, buf));
        return e;
    }
    if (resp.status != 200) {
        snprintf(err, 256, "getting %s: %d %s", url, resp.status, http_status_text(resp.status));
        http_response_free(&resp);
        return ERR_BAD_RESPONSE;
    }
    for (const char *p = resp.body; p && (p = strstr(p, "href=\""));) {
        p += 6;
        const char *q = strchr(p, '"');
        if (!q)
            break;
        char *link = resolve(url, p, (size_t)(q - p));
        if (link)
            strlist_add(out, link);
        p = q + 1;
    }
    http_response_free(&resp);
    return 0;
}

/* ---- crawl ---- */

/* tokens: crawl2's semaphore (NULL: no limit). */
static strlist crawl(const char *url, goc_chan *tokens)
{
    printf("%s\n", url);
    if (tokens)
        goc_chan_send(tokens, &(char){0}); /* acquire a token */
    strlist list = {0};
    char err[256];
    int e = links_extract(url, &list, err);
    if (tokens)
        goc_chan_recv(tokens, NULL); /* release the token */
    if (e)
        log_print("%s", err);
    return list;
}

/* go func() { worklist <- os.Args[1:] }() */
struct send_list {
    goc_chan *worklist; /* a reference */
    strlist list;
};

static void send_list(void *arg)
{
    struct send_list *a = arg;
    goc_chan_send(a->worklist, &a->list);
    goc_chan_release(a->worklist);
    free(a);
}

/* go fn(arg), joined by wg unless it is NULL; arg is a malloc'd record of
 * size n, filled in from rec. */
static void go_record(goc_fn fn, const void *rec, size_t n, goc_waitgroup *wg)
{
    void *arg = malloc(n);
    if (!arg)
        log_fatal("out of memory");
    memcpy(arg, rec, n);
    if (wg)
        goc_waitgroup_go(wg, fn, arg);
    else
        goc_go(fn, arg);
}

static void go_send_list(goc_chan *worklist, strlist list, goc_waitgroup *wg)
{
    struct send_list a = {goc_chan_retain(worklist), list};
    go_record(send_list, &a, sizeof a, wg);
}

/* go func(link string) { worklist <- crawl(link) }(link); link is seen's. */
struct crawl_link {
    goc_chan *worklist; /* a reference */
    const char *link;
    goc_chan *tokens;   /* crawl2's, which outlives the goroutine; NULL: none */
};

static void crawl_link(void *arg)
{
    struct crawl_link *a = arg;
    strlist list = crawl(a->link, a->tokens);
    goc_chan_send(a->worklist, &list);
    goc_chan_release(a->worklist);
    free(a);
}

static void go_crawl_link(goc_chan *worklist, const char *link, goc_chan *tokens,
                          goc_waitgroup *wg)
{
    struct crawl_link a = {goc_chan_retain(worklist), link, tokens};
    go_record(crawl_link, &a, sizeof a, wg);
}

static strlist copy_args(int n, char **urls)
{
    strlist l = {0};
    for (int i = 0; i < n; i++)
        strlist_add(&l, xstrndup(urls[i], strlen(urls[i])));
    return l;
}

/* crawl1's main loop: never returns. */
static void crawl1(int n, char **urls)
{
    goc_chan *worklist = goc_chan_make(sizeof(strlist), 0);
    keep_until_exit(worklist);
    go_send_list(worklist, copy_args(n, urls), NULL);
    seen_set *seen = seen_new();
    keep_until_exit(seen);
    GOC_CHAN_RANGE(worklist, strlist, list) {
        for (size_t i = 0; i < list.n; i++)
            if (seen_add(seen, list.v[i]))
                go_crawl_link(worklist, list.v[i], NULL, NULL);
        free(list.v);
    }
}

/* crawl2's main loop: returns once every link found has been crawled. */
static void crawl2(int nurls, char **urls)
{
    goc_chan *tokens = goc_chan_make(0, LIMIT);
    goc_chan *worklist = goc_chan_make(sizeof(strlist), 0);
    goc_waitgroup senders = GOC_WAITGROUP_INIT;
    int n = 0; /* number of pending sends to worklist */
    n++;
    go_send_list(worklist, copy_args(nurls, urls), &senders);
    seen_set *seen = seen_new();
    for (; n > 0; n--) {
        strlist list;
        goc_chan_recv(worklist, &list);
        for (size_t i = 0; i < list.n; i++) {
            if (seen_add(seen, list.v[i])) {
                n++;
                go_crawl_link(worklist, list.v[i], tokens, &senders);
            }
        }
        free(list.v);
    }
    goc_waitgroup_wait(&senders); /* they have sent; let them end */
    goc_chan_release(worklist);
    goc_chan_release(tokens);
    seen_free(seen);
}

/* crawl3's crawler goroutine. */
struct crawler {
    goc_chan *unseen, *worklist; /* references */
};

static void crawler(void *arg)
{
    struct crawler *c = arg;
    GOC_CHAN_RANGE(c->unseen, const char *, link) {
        strlist found = crawl(link, NULL);
        go_send_list(c->worklist, found, NULL);
    }
}

/* crawl3's main loop: never returns. */
static void crawl3(int n, char **urls)
{
    goc_chan *worklist = goc_chan_make(sizeof(strlist), 0);
    goc_chan *unseen = goc_chan_make(sizeof(const char *), 0);
    keep_until_exit(worklist);
    keep_until_exit(unseen);
    go_send_list(worklist, copy_args(n, urls), NULL);
    static struct crawler crawlers[LIMIT];
    for (int i = 0; i < LIMIT; i++) {
        crawlers[i] = (struct crawler){goc_chan_retain(unseen), goc_chan_retain(worklist)};
        goc_go(crawler, &crawlers[i]);
    }
    seen_set *seen = seen_new();
    keep_until_exit(seen);
    GOC_CHAN_RANGE(worklist, strlist, list) {
        for (size_t i = 0; i < list.n; i++)
            if (seen_add(seen, list.v[i]))
                goc_chan_send(unseen, &(const char *){list.v[i]});
        free(list.v);
    }
}

/* ---- The demo's site ---- */

static struct {
    atomic_int fetches[PAGES];
    atomic_int served;   /* pages served, repeats included */
    atomic_int inflight; /* requests being served now */
    atomic_int most;     /* the most at once */
    goc_chan *all_served; /* closed when every page has been served once */
    atomic_int distinct;
    int64_t latency;
} site;

/* Page 0 is "/"; page i is /page/i. Page i links to its FANOUT children
 * FANOUT*i+1.. (those that exist), to its parent and to the root: every
 * page is reachable from "/", and most are linked more than once. */
static void page_path(int i, char buf[32])
{
    if (i == 0)
        snprintf(buf, 32, "/");
    else
        snprintf(buf, 32, "/page/%d", i);
}

static void serve_page(void *arg, http_response *w, const char *path)
{
    (void)arg;
    int i = 0;
    if (strcmp(path, "/") != 0 && (sscanf(path, "/page/%d", &i) != 1 || i <= 0 || i >= PAGES)) {
        w->status = 404;
        http_printf(w, "404 page not found\n");
        return;
    }
    int now = atomic_fetch_add(&site.inflight, 1) + 1;
    for (int most = atomic_load(&site.most); now > most;)
        if (atomic_compare_exchange_weak(&site.most, &most, now))
            break;
    goc_sleep(site.latency); /* the network */
    char buf[32];
    http_printf(w, "<html><body><h1>page %d</h1>\n", i);
    for (int k = 1; k <= FANOUT && FANOUT * i + k < PAGES; k++) {
        page_path(FANOUT * i + k, buf);
        http_printf(w, "<a href=\"%s\">child %d</a>\n", buf, k);
    }
    if (i > 0) {
        page_path((i - 1) / FANOUT, buf);
        http_printf(w, "<a href=\"%s#top\">parent</a> <a href=\"/\">home</a>\n", buf);
    }
    http_printf(w, "</body></html>\n");
    atomic_fetch_sub(&site.inflight, 1);
    atomic_fetch_add(&site.served, 1);
    if (atomic_fetch_add(&site.fetches[i], 1) == 0 &&
        atomic_fetch_add(&site.distinct, 1) + 1 == PAGES)
        goc_chan_close(site.all_served);
}

struct run_arg {
    int version, n;
    char **urls;
};

static void run_crawler(void *arg)
{
    struct run_arg *a = arg;
    void (*crawlers[])(int, char **) = {crawl1, crawl2, crawl3};
    crawlers[a->version - 1](a->n, a->urls);
}

/* One version against a fresh site: the URLs, then what the site saw. */
static void demo(int version)
{
    memset(&site, 0, sizeof site);
    site.latency = env_millis("CRAWL_LATENCY_MS", 2);
    site.all_served = goc_chan_make(0, 0);
    http_route routes[] = {{"/", serve_page, NULL}};
    http_local server;
    http_local_start(&server, "site", routes, 1);
    char root[GOC_ADDRSTRLEN + 16];
    snprintf(root, sizeof root, "http://%s/", server.addr);
    char *urls[] = {root};

    static const char *what[] = {"a goroutine per link", "20 tokens", "20 crawler goroutines"};
    printf("-- crawl%d (%s) from %s\n", version, what[version - 1], root);
    fflush(stdout);
    struct run_arg a = {version, 1, urls};
    if (version == 2) {
        run_crawler(&a); /* it ends by itself */
    } else {
        goc_go(run_crawler, &a); /* it never ends: wait for the site */
        goc_chan_recv(site.all_served, NULL);
    }
    fflush(stdout);

    http_local_stop(&server);
    goc_chan_release(site.all_served);

    int once = 0;
    for (int i = 0; i < PAGES; i++)
        once += atomic_load(&site.fetches[i]) == 1;
    printf("crawl%d: %d pages, %d fetched once, %d fetches; at most %d at once; %s\n", version,
           PAGES, once, atomic_load(&site.served), atomic_load(&site.most),
           version == 2 ? "the loop ended (n = 0)" : "its loop still waits on worklist");
    fflush(stdout);
}

static int real_main(int argc, char **argv)
{
    int version = 0;
    if (argc > 1 && (strcmp(argv[1], "1") == 0 || strcmp(argv[1], "2") == 0 ||
                     strcmp(argv[1], "3") == 0)) {
        version = argv[1][0] - '0';
        argc--, argv++;
    }
    if (argc > 1 && strncmp(argv[1], "http://", 7) != 0) {
        fprintf(stderr, "usage: crawl [1|2|3] [http://URL ...]\n");
        return 2;
    }
    if (argc > 1) { /* the seed's program: crawl the web from the URLs */
        struct run_arg a = {version ? version : 2, argc - 1, argv + 1};
        run_crawler(&a);
        return 0; /* crawl2's loop ended */
    }
    for (int v = 1; v <= 3; v++)
        if (!version || v == version)
            demo(v);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
