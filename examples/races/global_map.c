/* races/global_map.c: seed 001, case 4: an unprotected global map.
 *
 *     var service = map[string]string{}
 *     func RegisterService(name, addr string) { service[name] = addr }
 *     func LookupService(name string) string  { return service[name] }
 *
 * Here the map is a small open-addressing table of name -> addr, plain C,
 * as unsafe as Go's map under concurrent writes. Two goroutines register
 * services while two others look them up.
 * Usage: global_map racy|mutex|syncmap
 *   racy     no lock: the race detector reports a lookup's read against a
 *            register's write, exit 66
 *   mutex    both under one goc_mutex (the seed's fix)
 *   syncmap  a goc_map (sync.Map, which the seed suggests) instead
 * The fixed versions print "64 services, 64 found".
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

enum { SLOTS = 256, SERVICES = 64 };

struct service {
    char name[16];
    char addr[24];
};

static struct service table[SLOTS]; /* name "" = empty */
static goc_mutex service_mu = GOC_MUTEX_INIT;
static goc_map *service_map;
static int variant; /* 0 racy, 1 mutex, 2 syncmap */

static unsigned slot_of(const char *name)
{
    unsigned h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h % SLOTS;
}

static void register_plain(const char *name, const char *addr)
{
    unsigned i = slot_of(name);
    while (table[i].name[0] && strcmp(table[i].name, name) != 0)
        i = (i + 1) % SLOTS;
    snprintf(table[i].addr, sizeof table[i].addr, "%s", addr);
    snprintf(table[i].name, sizeof table[i].name, "%s", name);
}

static const char *lookup_plain(const char *name, char *buf)
{
    unsigned i = slot_of(name);
    for (; table[i].name[0]; i = (i + 1) % SLOTS)
        if (strcmp(table[i].name, name) == 0)
            return strcpy(buf, table[i].addr);
    return NULL;
}

static void RegisterService(const char *name, const char *addr)
{
    struct service s = {{0}, {0}};
    switch (variant) {
    case 0: register_plain(name, addr); break;
    case 1:
        goc_mutex_lock(&service_mu);
        register_plain(name, addr);
        goc_mutex_unlock(&service_mu);
        break;
    default:
        snprintf(s.name, sizeof s.name, "%s", name);
        snprintf(s.addr, sizeof s.addr, "%s", addr);
        goc_map_store(service_map, s.name, s.addr);
    }
}

static const char *LookupService(const char *name, char *buf)
{
    const char *r;
    struct service s = {{0}, {0}};
    switch (variant) {
    case 0: return lookup_plain(name, buf);
    case 1:
        goc_mutex_lock(&service_mu);
        r = lookup_plain(name, buf);
        goc_mutex_unlock(&service_mu);
        return r;
    default:
        snprintf(s.name, sizeof s.name, "%s", name);
        return goc_map_load(service_map, s.name, buf) ? buf : NULL;
    }
}

static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void registrar(void *arg)
{
    int first = (int)(long)arg;
    for (int i = first; i < SERVICES; i += 2) {
        char name[16], addr[24];
        snprintf(name, sizeof name, "svc-%d", i);
        snprintf(addr, sizeof addr, "10.0.0.%d:80", i);
        RegisterService(name, addr);
        goc_yield();
    }
    goc_waitgroup_done(&wg);
}

static void looker(void *arg)
{
    (void)arg;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < SERVICES; i++) {
            char name[16], buf[24];
            snprintf(name, sizeof name, "svc-%d", i);
            LookupService(name, buf);
        }
        goc_yield();
    }
    goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    variant = strcmp(v, "racy") == 0 ? 0 : strcmp(v, "mutex") == 0 ? 1 : strcmp(v, "syncmap") == 0 ? 2 : -1;
    if (variant < 0) {
        fprintf(stderr, "usage: global_map racy|mutex|syncmap\n");
        return 2;
    }
    goc_map_type t = {.key_size = 16, .value_size = 24};
    service_map = goc_map_new(&t);
    for (long i = 0; i < 2; i++) {
        goc_waitgroup_add(&wg, 2);
        goc_go(registrar, (void *)i);
        goc_go(looker, NULL);
    }
    goc_waitgroup_wait(&wg);
    int found = 0;
    for (int i = 0; i < SERVICES; i++) {
        char name[16], buf[24], want[24];
        snprintf(name, sizeof name, "svc-%d", i);
        snprintf(want, sizeof want, "10.0.0.%d:80", i);
        found += LookupService(name, buf) && strcmp(buf, want) == 0;
    }
    printf("%d services, %d found\n", SERVICES, found);
    goc_map_free(service_map);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
