/* netaddr.c: networks and addresses as Go writes them: "host:port",
 * "[v6%zone]:port", ":port", unix paths and "@abstract" names; parsing (Go's
 * SplitHostPort rules), resolution and formatting (Go's Addr.String()).
 *
 * Resolution never blocks a worker: numeric hosts, the empty host and
 * "localhost" are answered here; any other name (and a port given as a
 * service name) goes to getaddrinfo on goc_blocking's helper threads. No
 * state is kept: nothing here locks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "netaddr.h"

int goc__netw_parse(const char *network, goc__netw *out)
{
    static const struct {
        const char *name;
        goc__netw nw;
    } tab[] = {
        {"tcp", {AF_UNSPEC, SOCK_STREAM}},  {"tcp4", {AF_INET, SOCK_STREAM}},
        {"tcp6", {AF_INET6, SOCK_STREAM}},  {"udp", {AF_UNSPEC, SOCK_DGRAM}},
        {"udp4", {AF_INET, SOCK_DGRAM}},    {"udp6", {AF_INET6, SOCK_DGRAM}},
        {"unix", {AF_UNIX, SOCK_STREAM}},   {"unixgram", {AF_UNIX, SOCK_DGRAM}},
        {"unixpacket", {AF_UNIX, SOCK_SEQPACKET}},
    };
    for (size_t i = 0; network && i < sizeof tab / sizeof tab[0]; i++) {
        if (strcmp(network, tab[i].name) == 0) {
            *out = tab[i].nw;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- Parsing ---- */

/* Go's net.SplitHostPort: "host:port", "[host]:port"; host and port are
 * copied NUL-terminated into the caller's buffers. */
static int split_host_port(const char *a, char *host, size_t hsz, char *port, size_t psz)
{
    const char *h, *he, *p;
    if (a[0] == '[') {
        const char *end = strchr(a, ']');
        if (!end || end[1] != ':')
            return -EINVAL; /* missing ']', missing port, or junk after ']' */
        h = a + 1, he = end, p = end + 2;
    } else {
        const char *c = strrchr(a, ':');
        if (!c || memchr(a, ':', (size_t)(c - a)))
            return -EINVAL; /* missing port, or too many colons */
        h = a, he = c, p = c + 1;
    }
    size_t hl = (size_t)(he - h), pl = strlen(p);
    if (memchr(h, '[', hl) || memchr(h, ']', hl) || strpbrk(p, "[]"))
        return -EINVAL;
    if (hl >= hsz || pl >= psz)
        return -EINVAL;
    memcpy(host, h, hl), host[hl] = 0;
    memcpy(port, p, pl + 1);
    return 0;
}

/* A decimal port: its number, -1 if it is not all digits (a service name),
 * -EINVAL if it is out of range. The empty port is 0, as in Go. */
static int parse_port(const char *p)
{
    long v = 0;
    for (const char *c = p; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        if ((v = v * 10 + (*c - '0')) > 65535)
            return -EINVAL;
    }
    return (int)v;
}

static void set_v4(goc_addr *a, const struct in_addr *ip, int port)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;
    s->sin_family = AF_INET;
    s->sin_port = htons((uint16_t)port);
    s->sin_addr = *ip;
    a->len = sizeof *s;
}

static void set_v6(goc_addr *a, const struct in6_addr *ip, uint32_t scope, int port)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    s->sin6_addr = *ip;
    s->sin6_scope_id = scope;
    a->len = sizeof *s;
}

/* A numeric host: 1 if it is one (*a set), 0 if not, -EINVAL for a bad
 * zone. */
static int parse_ip(const char *host, int port, goc_addr *a)
{
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1) {
        set_v4(a, &v4, port);
        return 1;
    }
    char buf[INET6_ADDRSTRLEN + 1];
    const char *zone = strchr(host, '%');
    size_t n = zone ? (size_t)(zone - host) : strlen(host);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, host, n), buf[n] = 0;
    struct in6_addr v6;
    if (inet_pton(AF_INET6, buf, &v6) != 1)
        return 0;
    uint32_t scope = 0;
    if (zone) {
        zone++;
        int z = parse_port(zone); /* a number, or an interface name */
        scope = z >= 0 && *zone ? (uint32_t)z : if_nametoindex(zone);
        if (!scope && strcmp(zone, "0") != 0)
            return -EINVAL;
    }
    set_v6(a, &v6, scope, port);
    return 1;
}

static int unix_addr(const char *path, bool passive, goc_addr *a)
{
    memset(a, 0, sizeof *a);
    struct sockaddr_un *s = (struct sockaddr_un *)&a->ss;
    s->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0) {
        if (!passive)
            return -EINVAL;
        a->len = sizeof(sa_family_t); /* autobind: the kernel picks a name */
        return 1;
    }
    if (n >= sizeof s->sun_path)
        return -EINVAL;
    memcpy(s->sun_path, path, n);
    if (path[0] == '@') { /* Linux's abstract namespace: no NUL, no file */
        s->sun_path[0] = 0;
        a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 1;
}

/* ---- getaddrinfo, off the workers ---- */

struct gai_call {
    const char *host, *serv;
    struct addrinfo hints;
    struct addrinfo *res;
};

/* Runs on a helper thread: errno is read here. */
static intptr_t gai_run(void *arg)
{
    struct gai_call *c = arg;
    int rc = getaddrinfo(c->host, c->serv, &c->hints, &c->res);
    switch (rc) {
    case 0:
        return 0;
    case EAI_AGAIN:
        return -EAGAIN;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SERVICE:
        return -EINVAL; /* unknown port name */
    case EAI_FAMILY:
    case EAI_SOCKTYPE:
        return -EAFNOSUPPORT;
    case EAI_SYSTEM:
        return errno ? -errno : -EIO;
    default: /* EAI_NONAME, EAI_NODATA, EAI_FAIL, EAI_ADDRFAMILY: no such host */
        return -ENOENT;
    }
}

static int gai(const goc__netw *nw, const char *host, const char *serv, bool passive,
               struct addrinfo **res)
{
    struct gai_call c = {.host = host, .serv = serv};
    c.hints.ai_family = nw->family;
    c.hints.ai_socktype = nw->sotype;
    c.hints.ai_flags = passive ? AI_PASSIVE : 0;
    int rc = (int)goc_blocking(gai_run, &c);
    *res = c.res;
    return rc;
}

static bool family_fits(const goc__netw *nw, int family)
{
    return nw->family == AF_UNSPEC || nw->family == family;
}

/* The port of a service name ("http"), through getaddrinfo. */
static int lookup_port(const goc__netw *nw, const char *serv)
{
    struct addrinfo *res;
    goc__netw any = {AF_UNSPEC, nw->sotype};
    int rc = gai(&any, NULL, serv, true, &res);
    if (rc < 0)
        return rc == -ENOENT ? -EINVAL : rc;
    int port = -EINVAL;
    if (res->ai_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
    else if (res->ai_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)res->ai_addr)->sin6_port);
    freeaddrinfo(res);
    return port;
}

/* lookup false: -EINPROGRESS where getaddrinfo would be needed. */
static int resolve(const goc__netw *nw, const char *address, bool passive, goc_addr *out,
                   int max, bool lookup)
{
    if (!address || max < 1)
        return -EINVAL;
    if (nw->family == AF_UNIX)
        return unix_addr(address, passive, out);

    char host[256], serv[64];
    int rc = split_host_port(address, host, sizeof host, serv, sizeof serv);
    if (rc < 0)
        return rc;
    int port = parse_port(serv);
    if (port == -1)
        port = lookup ? lookup_port(nw, serv) : -EINPROGRESS;
    if (port < 0)
        return port;

    int n = 0;
    rc = host[0] ? parse_ip(host, port, out) : 0;
    if (rc < 0)
        return rc;
    if (rc == 1) {
        int fam = out->ss.ss_family;
        bool unspec = fam == AF_INET
                          ? ((struct sockaddr_in *)&out->ss)->sin_addr.s_addr == htonl(INADDR_ANY)
                          : IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&out->ss)->sin6_addr);
        if (!(passive && unspec && nw->family == AF_UNSPEC)) {
            if (!family_fits(nw, fam))
                return -EAFNOSUPPORT;
            return 1;
        }
        host[0] = 0; /* "tcp" on 0.0.0.0 or [::]: dual-stack, as Go listens */
    }

    bool v4 = nw->family != AF_INET6, v6 = nw->family != AF_INET;
    if (!host[0] || strcasecmp(host, "localhost") == 0) {
        /* The wildcard to bind, or the local system to reach. A "tcp"
         * wildcard is the dual-stack [::] first (the caller falls back to
         * 0.0.0.0 where IPv6 is missing); "localhost" is IPv4 first. */
        bool wild = passive && !host[0];
        struct in_addr a4 = {htonl(wild ? INADDR_ANY : INADDR_LOOPBACK)};
        const struct in6_addr *a6 = wild ? &in6addr_any : &in6addr_loopback;
        if (wild && v6 && n < max)
            set_v6(&out[n++], a6, 0, port);
        if (v4 && n < max)
            set_v4(&out[n++], &a4, port);
        if (!wild && v6 && n < max)
            set_v6(&out[n++], a6, 0, port);
        return n;
    }

    if (!lookup)
        return -EINPROGRESS;
    struct addrinfo *res;
    rc = gai(nw, host, NULL, false, &res);
    if (rc < 0)
        return rc;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        if (!family_fits(nw, ai->ai_family) || ai->ai_addrlen > sizeof out[n].ss)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        if (ai->ai_family == AF_INET)
            ((struct sockaddr_in *)&out[n].ss)->sin_port = htons((uint16_t)port);
        else if (ai->ai_family == AF_INET6)
            ((struct sockaddr_in6 *)&out[n].ss)->sin6_port = htons((uint16_t)port);
        else
            continue;
        /* A listener takes the first IPv4 address, as Go's does. */
        if (passive && ai->ai_family == AF_INET && n > 0 && out[0].ss.ss_family != AF_INET) {
            goc_addr t = out[0];
            out[0] = out[n], out[n] = t;
        }
        n++;
    }
    freeaddrinfo(res);
    return n ? n : -ENOENT;
}

int goc__net_resolve(const goc__netw *nw, const char *address, bool passive, goc_addr *out,
                     int max)
{
    return resolve(nw, address, passive, out, max, true);
}

int goc__net_resolve_now(const goc__netw *nw, const char *address, bool passive,
                         goc_addr *out, int max)
{
    return resolve(nw, address, passive, out, max, false);
}

/* ---- Formatting ---- */

int goc__addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN], zone[IF_NAMESIZE + 1] = "";
    int n;
    if (!size)
        return -ENOSPC;
    if (len < sizeof(sa_family_t)) {
        buf[0] = 0;
        return 0;
    }
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *s = (const void *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        n = snprintf(buf, size, "%s:%u", ip, ntohs(s->sin_port));
        break;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *s = (const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) { /* Go prints these as IPv4 */
            inet_ntop(AF_INET, &s->sin6_addr.s6_addr[12], ip, sizeof ip);
            n = snprintf(buf, size, "%s:%u", ip, ntohs(s->sin6_port));
            break;
        }
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        if (s->sin6_scope_id && !if_indextoname(s->sin6_scope_id, zone))
            snprintf(zone, sizeof zone, "%u", s->sin6_scope_id);
        n = snprintf(buf, size, "[%s%s%s]:%u", ip, zone[0] ? "%" : "", zone,
                     ntohs(s->sin6_port));
        break;
    }
    case AF_UNIX: {
        const struct sockaddr_un *s = (const void *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t pl = len > off ? len - off : 0;
        if (pl && s->sun_path[0] == 0) { /* abstract: "@name" */
            n = snprintf(buf, size, "@%.*s", (int)(pl - 1), s->sun_path + 1);
        } else {
            n = snprintf(buf, size, "%.*s", (int)strnlen(s->sun_path, pl), s->sun_path);
        }
        break;
    }
    default:
        return -EAFNOSUPPORT;
    }
    return n < 0 ? -EINVAL : (size_t)n >= size ? -ENOSPC : n;
}

/* ---- Public ---- */

int goc_addr_resolve(const char *network, const char *address, goc_addr *out)
{
    goc__netw nw;
    int rc = goc__netw_parse(network, &nw);
    if (rc < 0)
        return rc;
    rc = goc__net_resolve(&nw, address, false, out, 1);
    return rc < 0 ? rc : 0;
}

int goc_addr_string(const goc_addr *a, char *buf, size_t size)
{
    return goc__addr_format((const struct sockaddr *)&a->ss, a->len, buf, size);
}
