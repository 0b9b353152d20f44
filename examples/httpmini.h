/* httpmini.h: the little of Go's net/http that the seed 001 server
 * examples use (serve_stop, serve_errgroup, memo_net), over goc's TCP.
 * goc has no HTTP package and this is not one: HTTP/1.0 only, one GET per
 * connection, no request bodies, no keep-alive, no chunking; each response
 * carries a Content-Length and the server closes the connection after it.
 * Enough for curl, for http.Get and for the seeds' lessons, which are about
 * the goroutines around a server, not about HTTP.
 *
 *   Go                                  here
 *   http.NewServeMux, mux.HandleFunc    an array of http_route {path, fn, arg}
 *   http.Server{Addr, Handler}          http_server_init(&s, name, addr, routes, n)
 *   s.ListenAndServe()                  http_listen_and_serve(&s)
 *   s.Shutdown(ctx)                     http_shutdown(&s, ctx)
 *   http.ErrServerClosed                ERR_SERVER_CLOSED ("http: Server closed")
 *   w.Write, fmt.Fprintf(w, ...)        http_write(w, ...), http_printf(w, ...)
 *   http.Get(url) + ioutil.ReadAll      http_get(url, &resp)
 *   NewRequestWithContext + Do          http_get_ctx(ctx, url, &resp)
 *   r.Context()                         w->ctx, in a handler
 *   r.Header.Get(name)                  http_header(w, name, buf, n)
 *   req.Header.Set + Do                 http_get_hdr(ctx, url, "Name: v\r\n", &resp)
 *
 * Routes match as Go's ServeMux matches: a path exactly, or a pattern
 * ending in "/" every path under it (the longest such pattern wins);
 * anything else gets Go's "404 page not found".
 *
 * Goroutines, and how each one stops. http_listen_and_serve runs in its
 * caller's goroutine and starts one goroutine per connection; the server
 * counts them (a WaitGroup). While a handler runs, its connection's
 * goroutine has one more reading the connection (the request's context,
 * w->ctx); it ends when the handler returns, and is waited for before the
 * response is written. Shutdown, as Go's: the listener stops
 * accepting at once (its accept is woken, and ListenAndServe returns
 * ERR_SERVER_CLOSED), connections whose request has not (fully) come
 * are woken and closed unanswered, and Shutdown waits, until ctx ends,
 * for the connections being served to finish. The listener belongs to the
 * goroutine in ListenAndServe, which closes it: Shutdown wakes its accept
 * by moving the listener's deadline to now rather than by closing the
 * listener from another goroutine, because goc_listener_close frees the
 * listener, and a ListenAndServe between two accepts would then call the
 * next one on freed memory (Go's garbage collector makes that safe in Go;
 * in C the owner closes).
 *
 * Ownership: an http_server is a plain struct owned by its creator, who
 * ends it with http_server_destroy once ListenAndServe has returned (or
 * was never called); destroy waits for the connection goroutines. The
 * routes and the address must outlive the server. A response from
 * http_get is the caller's, freed with http_response_free.
 *
 * Errors are ints, as everywhere in goc: negative errno values, and the
 * positive codes below (an example numbers its own from 10 up).
 */
#ifndef HTTPMINI_H
#define HTTPMINI_H

#include "netex.h"

#include <ctype.h>
#include <strings.h>

#define ERR_SERVER_CLOSED 1 /* http.ErrServerClosed */
#define ERR_BAD_RESPONSE 2  /* a reply that is not HTTP */

/* Go's text for an error: "http: Server closed", or the system's text in
 * Go's lower case ("address already in use"). */
static inline const char *http_err_str(int err, char buf[64])
{
    if (err == ERR_SERVER_CLOSED)
        return "http: Server closed";
    if (err == ERR_BAD_RESPONSE)
        return "malformed HTTP response";
    if (err == -ECANCELED || err == -ETIMEDOUT)
        return goc_ctx_err_str(err); /* from a Shutdown's context */
    snprintf(buf, 64, "%s", err < 0 ? strerror(-err) : "unknown error");
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* ---- Responses (http.ResponseWriter), on both sides ---- */

typedef struct http_response {
    int status; /* 200 unless the handler says otherwise */
    char *body; /* malloc'd, NUL-terminated; NULL while empty */
    size_t len, cap;
    /* A handler's: its request's context (r.Context()), cancelled when the
     * client goes away (its connection reads EOF or fails while the
     * handler runs) or once the handler has returned. NULL in responses
     * http_get returns. */
    goc_ctx *ctx;
    /* A handler's: its request's header lines, "Name: value\n" each (for
     * http_header); NULL in responses http_get returns. */
    const char *header;
} http_response;

/* r.Header.Get(name): the value of the request's header name (its case
 * ignored) into buf; "" if it has none. */
static inline const char *http_header(const http_response *w, const char *name, char *buf,
                                      size_t n)
{
    size_t len = strlen(name);
    buf[0] = 0;
    for (const char *l = w->header; l && *l; l = strchr(l, '\n') + 1) {
        if (strncasecmp(l, name, len) == 0 && l[len] == ':') {
            const char *v = l + len + 1;
            v += strspn(v, " \t");
            snprintf(buf, n, "%.*s", (int)strcspn(v, "\r\n"), v);
            break;
        }
        if (!strchr(l, '\n'))
            break;
    }
    return buf;
}

static inline void http_write(http_response *w, const void *p, size_t n)
{
    if (w->len + n + 1 > w->cap) {
        w->cap = 2 * (w->len + n + 1);
        w->body = realloc(w->body, w->cap);
        if (!w->body)
            log_fatal("out of memory");
    }
    memcpy(w->body + w->len, p, n);
    w->len += n;
    w->body[w->len] = 0;
}

static inline GOC_PRINTF(2, 3) void http_printf(http_response *w, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        log_fatal("out of memory");
    http_write(w, s, (size_t)n);
    free(s);
}

static inline void http_response_free(http_response *r)
{
    free(r->body);
    *r = (http_response){0};
}

/* ---- The server ---- */

/* A handler, as mux.HandleFunc's: writes its response into w. Runs in the
 * connection's goroutine; may park. */
typedef void (*http_handler)(void *arg, http_response *w, const char *path);

typedef struct http_route {
    const char *path;
    http_handler fn;
    void *arg;
} http_route;

/* Where a server tells its address once it listens (see on_listen). */
typedef struct http_listening {
    const char *name;
    char addr[GOC_ADDRSTRLEN];
} http_listening;

struct http_conn;

typedef struct http_server {
    const char *name;  /* for its log line: "<name> listening on <addr>" */
    const char *addr;  /* as configured: "127.0.0.1:0", ":8080" */
    const http_route *routes;
    size_t nroutes;
    goc_chan *on_listen; /* optional, set before serving: an http_listening is
                          * sent on it (it must have room) once listening */

    goc_mutex mu; /* guards what follows */
    goc_listener *l; /* while ListenAndServe has it open */
    bool shutting_down;
    char where[GOC_ADDRSTRLEN]; /* the address it listens on */
    struct http_conn *conns;    /* connections being served */
    goc_chan *idle;     /* closed once shut down, listener and connections gone */
    bool idle_closed;
    goc_waitgroup wg;   /* connection goroutines */
} http_server;

struct http_conn {
    http_server *s;
    goc_conn *c;
    bool reading; /* still waiting for its request: Shutdown closes it */
    struct http_conn *next;
};

static inline void http_server_init(http_server *s, const char *name, const char *addr,
                                    const http_route *routes, size_t nroutes)
{
    *s = (http_server){.name = name, .addr = addr, .routes = routes, .nroutes = nroutes};
    s->mu = (goc_mutex)GOC_MUTEX_INIT;
    s->wg = (goc_waitgroup)GOC_WAITGROUP_INIT;
    s->idle = goc_chan_make(0, 0);
    snprintf(s->where, sizeof s->where, "%s", addr);
}

/* The address it listens on (as configured until it does), into buf. */
static inline const char *http_server_addr(http_server *s, char buf[GOC_ADDRSTRLEN])
{
    goc_mutex_lock(&s->mu);
    snprintf(buf, GOC_ADDRSTRLEN, "%s", s->where);
    goc_mutex_unlock(&s->mu);
    return buf;
}

/* With s->mu held. */
static inline void http_check_idle(http_server *s)
{
    if (s->shutting_down && !s->l && !s->conns && !s->idle_closed) {
        s->idle_closed = true;
        goc_chan_close(s->idle);
    }
}

static inline const http_route *http_match(http_server *s, const char *path)
{
    const http_route *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < s->nroutes; i++) {
        const char *p = s->routes[i].path;
        size_t n = strlen(p);
        if (strcmp(p, path) == 0)
            return &s->routes[i];
        if (n > best_len && p[n - 1] == '/' && strncmp(p, path, n) == 0)
            best = &s->routes[i], best_len = n;
    }
    return best;
}

static inline const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    default: return "Internal Server Error";
    }
}

/* While a handler runs: a read on its connection, as Go's server's
 * background read, which ends the request's context if the client closes
 * the connection (EOF) or it fails. The handler's return ends the context,
 * which ends the read. */
struct http_watch {
    goc_conn *c;
    goc_ctx *ctx;  /* the request's: a reference of the watcher's own */
    goc_chan *done; /* closed when the watcher is done with c */
};

static inline void http_watch_conn(void *arg)
{
    struct http_watch *wt = arg;
    char b;
    ssize_t n = goc_conn_read_ctx(wt->c, &b, 1, wt->ctx);
    if (n <= 0 && !goc_ctx_err(wt->ctx))
        goc_cancel(wt->ctx); /* the client went away */
    goc_ctx_unref(wt->ctx);
    goc_chan_close(wt->done);
}

/* One connection: its request, the handler, the response, the close. */
static inline void http_serve_conn(void *arg)
{
    struct http_conn *hc = arg;
    http_server *s = hc->s;
    goc_scanner *in = goc_scanner_new(hc->c, 8192);
    char method[16] = "", path[1024] = "";
    int rc = in ? goc_scanner_scan(in) : -ENOMEM;
    bool ok = rc > 0 &&
              sscanf(goc_scanner_text(in, NULL), "%15s %1023s HTTP/", method, path) == 2;
    http_response hdr = {0}; /* the header lines, kept for the handler */
    while (rc > 0 && (rc = goc_scanner_scan(in)) > 0 && goc_scanner_text(in, NULL)[0] != 0)
        http_printf(&hdr, "%s\n", goc_scanner_text(in, NULL)); /* up to the empty line */
    goc_mutex_lock(&s->mu);
    hc->reading = false; /* from here on, Shutdown waits for it */
    goc_mutex_unlock(&s->mu);

    if (rc > 0) { /* a whole request came (else: closed, unanswered) */
        http_response w = {.status = 200, .ctx = goc_with_cancel(goc_background()),
                           .header = hdr.body ? hdr.body : ""};
        struct http_watch wt = {hc->c, goc_ctx_retain(w.ctx), goc_chan_make(0, 0)};
        if (!w.ctx || !wt.done)
            log_fatal("out of memory");
        goc_go(http_watch_conn, &wt);
        path[strcspn(path, "?")] = 0; /* the query is not part of the route */
        const http_route *r = ok ? http_match(s, path) : NULL;
        if (!ok)
            w.status = 400;
        else if (r)
            r->fn(r->arg, &w, path);
        else
            w.status = 404, http_printf(&w, "404 page not found\n");
        goc_cancel(w.ctx); /* the handler has returned: the watcher stops */
        goc_chan_recv(wt.done, NULL);
        goc_chan_release(wt.done);
        goc_ctx_release(w.ctx);
        goc_conn_printf(hc->c,
                        "HTTP/1.0 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        w.status, http_status_text(w.status), w.len, w.body ? w.body : "");
        http_response_free(&w);
    }
    http_response_free(&hdr);
    if (in)
        goc_scanner_free(in);

    /* Out of the list before the close: Shutdown may touch any listed one. */
    goc_mutex_lock(&s->mu);
    struct http_conn **pp = &s->conns;
    while (*pp != hc)
        pp = &(*pp)->next;
    *pp = hc->next;
    http_check_idle(s);
    goc_mutex_unlock(&s->mu);
    goc_conn_close(hc->c);
    free(hc);
    goc_waitgroup_done(&s->wg);
}

/* s.ListenAndServe(): listens on s->addr, then accepts until Shutdown.
 * Returns ERR_SERVER_CLOSED after Shutdown (at once if Shutdown came
 * first), else the error that stopped it (a failed listen: -EADDRINUSE,
 * ...). Parks. */
static inline int http_listen_and_serve(http_server *s)
{
    goc_mutex_lock(&s->mu);
    bool closed = s->shutting_down;
    goc_mutex_unlock(&s->mu);
    if (closed)
        return ERR_SERVER_CLOSED;
    goc_listener *l;
    int err = goc_listen("tcp", s->addr, &l);
    if (err < 0)
        return err;

    goc_mutex_lock(&s->mu);
    closed = s->shutting_down;
    if (!closed) {
        s->l = l;
        goc_listener_addr(l, s->where, sizeof s->where);
    }
    goc_mutex_unlock(&s->mu);
    if (closed) { /* Shutdown came while it was listening */
        goc_listener_close(l);
        return ERR_SERVER_CLOSED;
    }
    log_print("%s listening on %s", s->name, s->where);
    if (s->on_listen) {
        http_listening at = {.name = s->name};
        snprintf(at.addr, sizeof at.addr, "%s", s->where);
        goc_chan_send(s->on_listen, &at);
    }

    int64_t backoff = 0;
    for (;;) {
        goc_conn *c;
        err = goc_accept(l, &c);
        bool temporary = err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
        goc_mutex_lock(&s->mu);
        closed = s->shutting_down;
        if (closed || (err < 0 && !temporary)) {
            /* The owner closes the listener: Shutdown only woke it. */
            s->l = NULL;
            goc_listener_close(l);
            http_check_idle(s);
            goc_mutex_unlock(&s->mu);
            if (err == 0)
                goc_conn_close(c); /* accepted as Shutdown came */
            return closed ? ERR_SERVER_CLOSED : err;
        }
        if (err < 0) { /* out of descriptors: Go waits and tries again */
            goc_mutex_unlock(&s->mu);
            backoff = backoff == 0 ? 5 * GOC_MILLISECOND : backoff < GOC_SECOND ? 2 * backoff : backoff;
            log_print("http: Accept error: %s; retrying in %lld ms", strerror(-err),
                      (long long)(backoff / GOC_MILLISECOND));
            goc_sleep(backoff);
            continue;
        }
        backoff = 0;
        struct http_conn *hc = calloc(1, sizeof *hc);
        if (!hc)
            log_fatal("out of memory");
        *hc = (struct http_conn){.s = s, .c = c, .reading = true, .next = s->conns};
        s->conns = hc;
        goc_waitgroup_add(&s->wg, 1);
        goc_mutex_unlock(&s->mu);
        goc_go(http_serve_conn, hc);
    }
}

/* s.Shutdown(ctx): stops accepting (ListenAndServe returns
 * ERR_SERVER_CLOSED), closes the connections still waiting for their
 * request, and waits for the others to be served, or for ctx to end
 * (then returns its error: -ETIMEDOUT, -ECANCELED; the connections left
 * finish on their own, and http_server_destroy waits for them). Returns
 * 0 when all is closed. Parks. */
static inline int http_shutdown(http_server *s, goc_ctx *ctx)
{
    goc_mutex_lock(&s->mu);
    s->shutting_down = true;
    int64_t now = goc_now();
    if (s->l)
        goc_listener_set_deadline(s->l, now); /* wakes its accept */
    for (struct http_conn *hc = s->conns; hc; hc = hc->next)
        if (hc->reading)
            goc_conn_set_read_deadline(hc->c, now); /* idle: wakes its read */
    http_check_idle(s);
    goc_mutex_unlock(&s->mu);
    int rc = goc_chan_recv_ctx(s->idle, NULL, ctx);
    return rc < 0 ? rc : 0;
}

/* Ends s once ListenAndServe has returned (or was never called): waits
 * for its connection goroutines. */
static inline void http_server_destroy(http_server *s)
{
    goc_waitgroup_wait(&s->wg);
    goc_chan_release(s->idle);
}

/* ---- A server inside the program, as the demos use one ---- */

/* A server on a port of its own on 127.0.0.1, served by a goroutine of its
 * own. Owned by its starter, which stops it. */
typedef struct http_local {
    http_server s;
    goc_waitgroup serving;     /* the goroutine in ListenAndServe */
    char addr[GOC_ADDRSTRLEN]; /* where it listens, "127.0.0.1:PORT" */
} http_local;

static inline void http_local_serve(void *server)
{
    http_server *s = server;
    int err = http_listen_and_serve(s);
    char buf[64];
    if (err != ERR_SERVER_CLOSED)
        log_fatal("%s: %s", s->name, http_err_str(err, buf));
}

/* Starts l serving routes; returns once it listens (l->addr set). */
static inline void http_local_start(http_local *l, const char *name, const http_route *routes,
                                    size_t nroutes)
{
    http_server_init(&l->s, name, "127.0.0.1:0", routes, nroutes);
    l->s.on_listen = goc_chan_make(sizeof(http_listening), 1);
    if (!l->s.on_listen || !l->s.idle)
        log_fatal("out of memory");
    l->serving = (goc_waitgroup)GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&l->serving, http_local_serve, &l->s);
    http_listening at;
    goc_chan_recv(l->s.on_listen, &at);
    snprintf(l->addr, sizeof l->addr, "%s", at.addr);
}

/* Shuts l down, once the requests being served are answered, and frees
 * it. */
static inline void http_local_stop(http_local *l)
{
    http_shutdown(&l->s, goc_background());
    goc_waitgroup_wait(&l->serving);
    http_server_destroy(&l->s);
    goc_chan_release(l->s.on_listen);
}

/* ---- The client: http.Get(url), then ioutil.ReadAll(resp.Body) ---- */

/* http.NewRequestWithContext(ctx, "GET", url, nil), header lines of its
 * own set ("Name: value\r\n" each; req.Header.Set), and Do, then
 * ioutil.ReadAll of the body: its status and body in *resp (the caller's,
 * freed with http_response_free). Returns 0, or a negative errno value
 * (-EINVAL for a URL that is not http://; goc_ctx_err(ctx) once ctx ends:
 * the connection is then closed, which the server's handler sees as its
 * request's context ending), or ERR_BAD_RESPONSE. Parks. */
static inline int http_get_hdr(goc_ctx *ctx, const char *url, const char *header,
                               http_response *resp)
{
    *resp = (http_response){0};
    if (strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *host = url + 7, *slash = strchr(host, '/');
    char hostport[256];
    snprintf(hostport, sizeof hostport, "%.*s", (int)(slash ? slash - host : (long)strlen(host)),
             host);
    goc_conn *c;
    int err = goc_dial_ctx(ctx, "tcp", hostport, &c);
    if (err < 0)
        return err;
    char req[1400];
    int m = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n%s\r\n", slash ? slash : "/",
                     hostport, header);
    ssize_t n = m > 0 && (size_t)m < sizeof req ? goc_conn_write_ctx(c, req, (size_t)m, ctx)
                                                : -EINVAL;
    http_response raw = {0};
    char buf[4096];
    while (n >= 0 && (n = goc_conn_read_ctx(c, buf, sizeof buf, ctx)) > 0)
        http_write(&raw, buf, (size_t)n);
    goc_conn_close(c);
    if (n < 0) {
        http_response_free(&raw);
        return (int)n;
    }
    const char *end = raw.body ? strstr(raw.body, "\r\n\r\n") : NULL;
    int status;
    if (!end || sscanf(raw.body, "HTTP/1.%*d %d", &status) != 1) {
        http_response_free(&raw);
        return ERR_BAD_RESPONSE;
    }
    size_t head = (size_t)(end - raw.body) + 4; /* the body moves to the front */
    memmove(raw.body, raw.body + head, raw.len - head + 1);
    raw.len -= head;
    raw.status = status;
    *resp = raw;
    return 0;
}

/* http_get_hdr with no header lines of the caller's. */
static inline int http_get_ctx(goc_ctx *ctx, const char *url, http_response *resp)
{
    return http_get_hdr(ctx, url, "", resp);
}

/* http.Get(url) + ioutil.ReadAll: http_get_ctx with no context to end it. */
static inline int http_get(const char *url, http_response *resp)
{
    return http_get_ctx(goc_background(), url, resp);
}

#endif
