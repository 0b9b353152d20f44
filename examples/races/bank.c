/* races/bank.c: seed 000's bank, from the unsynchronised original to its
 * fixes, and the window in its first WithDraw.
 *
 *     func (this *bank) Deposit(amount int) { this.balance += amount }
 *     func main() {
 *         b := new(bank)
 *         go func() { b.Deposit(200); fmt.Println(b.GetBalance()) }()
 *         go func() { b.Deposit(100) }()
 *         time.Sleep(time.Second)
 *         fmt.Println(b.GetBalance())
 *     }
 *
 *     func (this *bank) WithDraw(amount int) bool {
 *         this.Deposit(-amount)
 *         if this.GetBalance() < 0 {
 *             this.Deposit(amount)
 *             return false
 *         }
 *         return true
 *     }
 *
 * Usage: bank racy|mutex|channel|teller|rwmutex|window|withdraw|deadlock
 *   racy      the seed's program: the balance is read and written with no
 *             synchronisation (300, or 200 when an update is lost); the
 *             race detector (make race) reports it, exit 66
 *   mutex     Deposit under a goc_mutex; channel: a channel of capacity 1
 *             as the lock; teller: the balance confined to one goroutine
 *             that serves deposits and balance queries over channels ("share
 *             memory by communicating"; the seed's teller lacks the loop
 *             around its select, and would serve one request only); rwmutex:
 *             GetBalance under a read lock. Each prints the seed's 300, then
 *             runs 8 goroutines x 1,000 deposits and prints the exact total
 *   window    the seed's WithDraw above, its lock taken three times: while
 *             one goroutine withdraws too much and puts it back, others see
 *             the balance negative, and a withdrawal that fits fails
 *   withdraw  WithDraw under one lock, around an unlocked deposit: neither
 *             ever happens
 *   deadlock  the refactoring the seed warns of: WithDraw holds the lock
 *             and calls Deposit, which locks it again; goc reports it as
 *             Go does ("all goroutines are asleep - deadlock!", exit 2)
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <goc.h>

/* ---- The seed's program, per variant ---- */

struct bank {
    long balance;
    goc_mutex mu;
    goc_rwmutex rw;
    goc_chan *same; /* capacity 1: a send locks, a receive unlocks */
};

static struct bank bank = {0, GOC_MUTEX_INIT, GOC_RWMUTEX_INIT, NULL};
static goc_chan *deposits, *balances; /* the teller's */

/* The variant, from argv[1] (variant_names), in the usage's order. */
enum variant { RACY, MUTEX, CHANNEL, TELLER, RWMUTEX, WINDOW, WITHDRAW, DEADLOCK, NVARIANTS };
static const char *const variant_names[NVARIANTS] = {
    "racy", "mutex", "channel", "teller", "rwmutex", "window", "withdraw", "deadlock"};
static enum variant variant;

static void deposit(long amount)
{
    char token = 0;
    switch (variant) {
    case RACY:
        bank.balance += amount;
        break;
    case MUTEX:
        goc_mutex_lock(&bank.mu);
        bank.balance += amount;
        goc_mutex_unlock(&bank.mu);
        break;
    case CHANNEL:
        goc_chan_send(bank.same, &token);
        bank.balance += amount;
        goc_chan_recv(bank.same, &token);
        break;
    case TELLER:
        goc_chan_send(deposits, &amount);
        break;
    default: /* RWMUTEX */
        goc_rwmutex_lock(&bank.rw);
        bank.balance += amount;
        goc_rwmutex_unlock(&bank.rw);
    }
}

static long get_balance(void)
{
    long v;
    char token = 0;
    switch (variant) {
    case RACY:
        v = bank.balance;
        break;
    case MUTEX:
        goc_mutex_lock(&bank.mu);
        v = bank.balance;
        goc_mutex_unlock(&bank.mu);
        break;
    case CHANNEL: /* the seed reads without the lock: a race again */
        goc_chan_send(bank.same, &token);
        v = bank.balance;
        goc_chan_recv(bank.same, &token);
        break;
    case TELLER:
        goc_chan_recv(balances, &v);
        break;
    default: /* RWMUTEX */
        goc_rwmutex_rlock(&bank.rw);
        v = bank.balance;
        goc_rwmutex_runlock(&bank.rw);
    }
    return v;
}

/* func teller(), with the loop the seed left out. */
static void teller(void *arg)
{
    (void)arg;
    long balance = 0;
    for (;;) {
        long v;
        goc_select_case cases[] = {
            GOC_RECV_CASE(deposits, &v),
            GOC_SEND_CASE(balances, &balance),
        };
        if (goc_select(cases, 2, false) == 0)
            balance += v;
    }
}

static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void alice(void *arg)
{
    (void)arg;
    deposit(200);
    printf("alice sees %ld\n", get_balance());
    goc_waitgroup_done(&wg);
}

static void bob(void *arg)
{
    (void)arg;
    deposit(100);
    goc_waitgroup_done(&wg);
}

enum { DEPOSITORS = 8, DEPOSITS = 1000 };

static void depositor(void *arg)
{
    (void)arg;
    for (int i = 0; i < DEPOSITS; i++) {
        deposit(1);
        if (i % 64 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&wg);
}

/* The seed's main: alice and bob deposit at once, main prints the total
 * (after a WaitGroup, where the seed sleeps a second). Fixed variants then
 * have many depositors at it, on every worker. */
static int seed_main(void)
{
    if (variant == TELLER) {
        deposits = goc_chan_make(sizeof(long), 0);
        balances = goc_chan_make(sizeof(long), 0);
        goc_go(teller, NULL); /* a server: it runs for the program's life */
    }
    bank.same = goc_chan_make(1, 1);
    goc_waitgroup_add(&wg, 2);
    goc_go(alice, NULL);
    goc_go(bob, NULL);
    goc_waitgroup_wait(&wg);
    printf("balance: %ld\n", get_balance());
    if (variant != RACY) {
        long before = get_balance();
        goc_waitgroup_add(&wg, DEPOSITORS);
        for (int i = 0; i < DEPOSITORS; i++)
            goc_go(depositor, NULL);
        goc_waitgroup_wait(&wg);
        printf("%d goroutines x %d deposits of 1: balance %ld (expected %ld)\n", DEPOSITORS,
               DEPOSITS, get_balance(), before + DEPOSITORS * DEPOSITS);
    }
    return 0;
}

/* ---- WithDraw: the window, its fix, and the self-deadlock ---- */

static goc_mutex wmu = GOC_MUTEX_INIT;
static long wbalance; /* guarded by wmu */

static void w_deposit_locked(long amount) { wbalance += amount; }

static void w_deposit(long amount)
{
    goc_mutex_lock(&wmu);
    w_deposit_locked(amount);
    goc_mutex_unlock(&wmu);
}

static long w_get_balance(void)
{
    goc_mutex_lock(&wmu);
    long v = wbalance;
    goc_mutex_unlock(&wmu);
    return v;
}

/* The seed's: every step locks on its own, so others run between them.
 * The yield stands for a preemption there (Go may preempt a goroutine
 * anywhere; goc switches only at a yield or a wait), so that the window
 * shows with the three goroutines on one worker too. */
static bool withdraw_window(long amount)
{
    w_deposit(-amount);
    goc_yield();
    if (w_get_balance() < 0) {
        w_deposit(amount);
        return false;
    }
    return true;
}

/* One lock around the whole decision. */
static bool withdraw_fixed(long amount)
{
    goc_mutex_lock(&wmu);
    bool ok = wbalance >= amount;
    if (ok)
        w_deposit_locked(-amount);
    goc_mutex_unlock(&wmu);
    return ok;
}

/* The broken refactoring: Deposit takes the lock WithDraw holds. */
static bool withdraw_deadlock(long amount)
{
    goc_mutex_lock(&wmu);
    w_deposit(-amount); /* blocks for good: wmu is ours already */
    bool ok = wbalance >= 0;
    goc_mutex_unlock(&wmu);
    return ok;
}

enum { START = 100, ROUNDS = 20000 };

static bool (*withdraw)(long amount);
static atomic_long negative_seen, small_failed;
static atomic_bool stop;

/* Tries to take more than there is, again and again: it must fail. */
static void greedy(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (withdraw(START + 50))
            w_deposit(START + 50); /* never: put it back and say so below */
        if (i % 16 == 0)
            goc_yield();
    }
    atomic_store(&stop, true);
    goc_waitgroup_done(&wg);
}

/* Takes 50 of the 100 and gives it back: it always fits. */
static void modest(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        if (withdraw(50))
            w_deposit(50);
        else
            atomic_fetch_add(&small_failed, 1);
        goc_yield();
    }
    goc_waitgroup_done(&wg);
}

static void auditor(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        if (w_get_balance() < 0)
            atomic_fetch_add(&negative_seen, 1);
        goc_yield();
    }
    goc_waitgroup_done(&wg);
}

static int withdraw_main(void)
{
    wbalance = START;
    if (variant == DEADLOCK) {
        withdraw = withdraw_deadlock;
        printf("withdraw(50) with the lock held...\n");
        fflush(stdout);
        bool ok = withdraw(50);
        printf("withdraw returned %d\n", ok); /* never */
        return 0;
    }
    withdraw = variant == WINDOW ? withdraw_window : withdraw_fixed;
    goc_waitgroup_add(&wg, 3);
    goc_go(greedy, NULL);
    goc_go(modest, NULL);
    goc_go(auditor, NULL);
    goc_waitgroup_wait(&wg);
    printf("%d withdrawals of %d from %d: the auditor saw a negative balance %ld times; "
           "withdrawals of 50 failed %ld times; balance at the end %ld\n",
           ROUNDS, START + 50, START, atomic_load(&negative_seen), atomic_load(&small_failed),
           w_get_balance());
    return 0;
}

static int real_main(int argc, char **argv)
{
    for (variant = 0; variant < NVARIANTS; variant++)
        if (argc > 1 && strcmp(argv[1], variant_names[variant]) == 0)
            return variant < WINDOW ? seed_main() : withdraw_main();
    fprintf(stderr, "usage: bank racy|mutex|channel|teller|rwmutex|window|withdraw|deadlock\n");
    return 2;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
