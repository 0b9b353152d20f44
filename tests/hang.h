/* hang.h: a TCP connect that hangs, for the tests of dial timeouts and
 * dial contexts (net_test, netctx_test).
 *
 * A loopback listener that never accepts, with a backlog of 0: once its
 * accept queue is full the kernel drops further SYNs, so a connect to it
 * hangs. hang_open fills the queue with short dials until one times out;
 * h->hung says whether that happened (some kernels never leave a loopback
 * connect hanging: the caller then says what went untested). hang_close
 * closes the connections and the listener. Include after test.h. */
#ifndef GOC_TEST_HANG_H
#define GOC_TEST_HANG_H

#include <netinet/in.h>
#include <sys/socket.h>

struct hang {
    int lfd;
    char addr[64];
    goc_conn *fill[8];
    int nfill;
    bool hung;
};

static inline void hang_open(struct hang *h)
{
    *h = (struct hang){.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(h->lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(h->lfd, 0) == 0);
    CHECK(getsockname(h->lfd, (struct sockaddr *)&sa, &len) == 0);
    snprintf(h->addr, sizeof h->addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    while (h->nfill < 8) {
        goc_conn *c;
        int rc = goc_dial_timeout("tcp", h->addr, 200 * GOC_MILLISECOND, &c);
        if (rc == -ETIMEDOUT) {
            h->hung = true;
            return;
        }
        CHECK(rc == 0);
        if (rc != 0)
            return;
        h->fill[h->nfill++] = c;
    }
}

static inline void hang_close(struct hang *h)
{
    for (int i = 0; i < h->nfill; i++)
        goc_conn_close(h->fill[i]);
    close(h->lfd);
}

#endif
