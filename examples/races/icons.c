/* races/icons.c: seed 002 §2.3.1, lazy initialisation: the icon table is
 * loaded on first use, by whichever goroutine gets there first.
 *
 *     var mu sync.RWMutex // guards icons
 *     var icons map[string]image.Image
 *     func Icon(name string) image.Image {
 *         mu.RLock()
 *         if icons != nil {
 *             icon := icons[name]
 *             mu.RUnlock()
 *             return icon
 *         }
 *         mu.RUnlock()
 *         mu.Lock()
 *         if icons == nil { // NOTE: must recheck for nil
 *             loadIcons()
 *         }
 *         icon := icons[name]
 *         mu.Unlock()
 *         return icon
 *     }
 *
 *     var loadIconsOnce sync.Once
 *     func Icon(name string) image.Image {
 *         loadIconsOnce.Do(loadIcons)
 *         return icons[name]
 *     }
 *
 * Usage: icons racy|rwmutex|once
 *   racy     Icon without a lock, as the seed's source (The Go Programming
 *            Language, 9.5) starts: "if icons == nil { loadIcons() }". The
 *            race detector (make race) reports it, exit 66; without it, the
 *            table may be loaded more than once, and a goroutine may see
 *            the table before its entries
 *   rwmutex  the double-checked read lock above
 *   once     sync.Once
 * 16 goroutines look up 1,000 icons each; each version prints how many
 * times the table was loaded (rwmutex, once: exactly 1) and how many
 * lookups found a wrong or missing icon (0).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <goc.h>

enum { NICONS = 4, LOOKERS = 16, LOOKUPS = 1000 };

static const char *const names[NICONS] = {"spades.png", "hearts.png", "diamonds.png",
                                          "clubs.png"};

typedef struct icon {
    const char *name;
    int pixels; /* stands for the image */
} icon;

static icon table[NICONS]; /* filled by load_icons */
static icon *icons;        /* nil until loaded: the map */
static atomic_int loads;

static void load_icons(void *arg)
{
    (void)arg;
    atomic_fetch_add(&loads, 1);
    for (int i = 0; i < NICONS; i++) {
        goc_yield(); /* loading takes a while: others run meanwhile */
        table[i] = (icon){names[i], 100 + i};
    }
    icons = table;
}

static const icon *lookup(const char *name)
{
    for (int i = 0; i < NICONS; i++)
        if (icons[i].name && strcmp(icons[i].name, name) == 0)
            return &icons[i];
    return NULL;
}

static const char *variant;
static goc_rwmutex mu = GOC_RWMUTEX_INIT;
static goc_once load_once = GOC_ONCE_INIT;

static const icon *icon_racy(const char *name)
{
    if (!icons)
        load_icons(NULL);
    return lookup(name);
}

static const icon *icon_rwmutex(const char *name)
{
    goc_rwmutex_rlock(&mu);
    if (icons) {
        const icon *ic = lookup(name);
        goc_rwmutex_runlock(&mu);
        return ic;
    }
    goc_rwmutex_runlock(&mu);

    goc_rwmutex_lock(&mu); /* acquire an exclusive lock */
    if (!icons)            /* must recheck: another may have loaded it meanwhile */
        load_icons(NULL);
    const icon *ic = lookup(name);
    goc_rwmutex_unlock(&mu);
    return ic;
}

static const icon *icon_once(const char *name)
{
    goc_once_do(&load_once, load_icons, NULL);
    return lookup(name);
}

static const icon *(*get_icon)(const char *name);
static atomic_int wrong;
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void looker(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < LOOKUPS; i++) {
        int k = (me + i) % NICONS;
        const icon *ic = get_icon(names[k]);
        if (!ic || ic->pixels != 100 + k)
            atomic_fetch_add(&wrong, 1);
    }
    goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    variant = argc > 1 ? argv[1] : "";
    if (strcmp(variant, "racy") == 0)
        get_icon = icon_racy;
    else if (strcmp(variant, "rwmutex") == 0)
        get_icon = icon_rwmutex;
    else if (strcmp(variant, "once") == 0)
        get_icon = icon_once;
    if (!get_icon) {
        fprintf(stderr, "usage: icons racy|rwmutex|once\n");
        return 2;
    }
    goc_waitgroup_add(&wg, LOOKERS);
    for (int i = 0; i < LOOKERS; i++)
        goc_go(looker, (void *)(intptr_t)i);
    goc_waitgroup_wait(&wg);
    printf("%s: %d lookups, table loaded %d times, %d lookups wrong\n", variant,
           LOOKERS * LOOKUPS, atomic_load(&loads), atomic_load(&wrong));
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
