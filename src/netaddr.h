/* netaddr.h: networks and addresses as Go writes them, shared by net.c
 * (connections) and netaddr.c (parsing, resolution, formatting). */
#ifndef GOC_NETADDR_PRIV_H
#define GOC_NETADDR_PRIV_H

#include <stdbool.h>

#include "goc/net.h"
#include "internal.h"

/* A network name ("tcp", "udp6", "unix", ...) as socket() wants it. */
typedef struct goc__netw {
    int family; /* AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for "tcp"/"udp" */
    int sotype; /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
} goc__netw;

/* Parses a network name: 0, or -EINVAL for an unknown one. */
GOC_INTERNAL int goc__netw_parse(const char *network, goc__netw *out);

/* Resolves address for nw into at most max addresses, in the order to try
 * them. passive: for bind (an empty or unspecified host means every
 * interface: for "tcp"/"udp" the dual-stack [::], else 0.0.0.0 or [::]);
 * otherwise an empty host means the local system (loopback). Returns how
 * many (> 0) or a negative errno (-EINVAL malformed, -ENOENT no such host,
 * -EAGAIN, -EAFNOSUPPORT: no address of the network's family). Names that
 * are neither numeric nor "localhost" go to getaddrinfo through
 * goc_blocking: may park. */
GOC_INTERNAL int goc__net_resolve(const goc__netw *nw, const char *address, bool passive,
                                  goc_addr *out, int max);

/* goc__net_resolve without getaddrinfo: -EINPROGRESS for an address that
 * needs it (a host or service name to look up; the caller may then run
 * goc__net_resolve where it can wait for it). Never parks. */
GOC_INTERNAL int goc__net_resolve_now(const goc__netw *nw, const char *address, bool passive,
                                      goc_addr *out, int max);

/* Go's Addr.String() of a socket address into buf; the length, or -ENOSPC. */
GOC_INTERNAL int goc__addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                                  size_t size);

#endif
